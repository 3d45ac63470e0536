"""wt-commit's hot path (issue 17): what the commit modules import at start-up, the git
processes a plain commit runs to find untracked files, and the hand-written replacements of
`re` that keep the regular expressions' meaning."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import committed_files, git, git_commands, write, wt_commit
from hypothesis import given, settings
from hypothesis import strategies as st

from worktree_tools.commit import message, staging

ROOT = Path(__file__).resolve().parents[2]

# The modules of wt-commit's hot path this test holds to the rule (docs/hot-path.md): at import
# time only these standard modules (free: loaded by every interpreter, or C modules) and
# project modules. Anything else is imported inside the function that needs it.
LEAN_MODULES = (
    "worktree_tools/cli/__init__.py",
    "worktree_tools/cli/_output.py",
    "worktree_tools/cli/commit_args.py",
    "worktree_tools/cli/commit_exec.py",
    "worktree_tools/commit/blobs.py",
    "worktree_tools/commit/build.py",
    "worktree_tools/commit/convert.py",
    "worktree_tools/commit/message.py",
    "worktree_tools/commit/paths.py",
    "worktree_tools/commit/read.py",
    "worktree_tools/commit/request.py",
    "worktree_tools/commit/run.py",
    "worktree_tools/commit/staging.py",
    "worktree_tools/commit/swap.py",
    "worktree_tools/commit/tip.py",
    "worktree_tools/core/entries.py",
    "worktree_tools/core/repo.py",
)
FREE = frozenset(
    ("__future__", "os", "sys", "stat", "time", "errno", "fcntl", "io", "select", "_json", "zlib")
)


def _in_functions(tree: ast.Module) -> set[int]:
    return {
        id(sub)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for sub in ast.walk(node)
        if sub is not node
    }


@pytest.mark.parametrize("module", LEAN_MODULES)
def test_a_hot_path_module_imports_only_free_modules_at_import_time(module: str) -> None:
    """Fails on the code before: dataclasses, enum, typing, pathlib, re, json, contextlib."""
    tree = ast.parse((ROOT / module).read_text())
    inside = _in_functions(tree)
    heavy = []
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            continue
        for sub in ast.walk(node):
            if id(sub) in inside:
                continue
            names = []
            if isinstance(sub, ast.Import):
                names = [a.name for a in sub.names]
            elif isinstance(sub, ast.ImportFrom) and sub.level == 0 and sub.module:
                names = [sub.module]
            heavy += [
                n
                for n in names
                if n.split(".")[0] not in FREE and n.split(".")[0] != "worktree_tools"
            ]
    assert heavy == [], f"{module} imports at import time: {heavy}"


# -- untracked files: `ls-files --others` only for the named paths the tip does not have -------


def test_a_commit_of_tracked_files_runs_no_ls_files(repo: Path, tmp_path: Path) -> None:
    """A tracked file needs no ignore check (`git add -A` stages it whatever .gitignore says):
    fails on the code before, which listed untracked files for every commit."""
    write(repo, ".gitignore", "*.log\n")
    write(repo, "kept.log", "1\n")
    git(repo, "add", ".gitignore")
    git(repo, "add", "-f", "kept.log")
    git(repo, "commit", "-qm", "a tracked file the rules ignore")
    write(repo, "kept.log", "2\n")
    write(repo, "src/app.py", "print('v2')\n")
    trace = tmp_path / "trace"
    proc = wt_commit(repo, "-m", "m", "--", "kept.log", "src/app.py", env={"GIT_TRACE": str(trace)})
    assert proc.returncode == 0, proc.stderr
    ran = git_commands(trace)
    assert not [c for c in ran if c.startswith("ls-files")], ran
    assert committed_files(repo) == ["kept.log", "src/app.py"]


def test_only_the_new_paths_are_listed(repo: Path, tmp_path: Path) -> None:
    write(repo, "src/app.py", "print('v2')\n")
    write(repo, "src/new.py", "new\n")
    trace = tmp_path / "trace"
    proc = wt_commit(
        repo, "-m", "m", "--", "src/app.py", "src/new.py", env={"GIT_TRACE": str(trace)}
    )
    assert proc.returncode == 0, proc.stderr
    listings = [c for c in git_commands(trace) if c.startswith("ls-files")]
    assert len(listings) == 1 and listings[0].endswith("-- src/new.py"), listings
    assert committed_files(repo) == ["src/app.py", "src/new.py"]


def test_a_new_ignored_file_beside_a_tracked_one_is_refused(repo: Path) -> None:
    write(repo, ".git/info/exclude", "*.log\n")
    write(repo, "README", "changed\n")
    write(repo, "new.log", "x\n")
    head = git(repo, "rev-parse", "HEAD")
    proc = wt_commit(repo, "-m", "m", "--", "README", "new.log")
    assert proc.returncode == 2 and "ignored" in proc.stderr, proc.stderr
    assert git(repo, "rev-parse", "HEAD") == head


def test_a_tracked_file_now_a_directory_commits_what_git_add_would(repo: Path) -> None:
    """The named path is in the tip (a file), so it was not listed: its untracked files (and
    not the ignored one) are found by the listing of directories."""
    write(repo, ".git/info/exclude", "*.log\n")
    (repo / "README").unlink()
    write(repo, "README/part.txt", "part\n")
    write(repo, "README/skip.log", "ignored\n")
    proc = wt_commit(repo, "-m", "m", "--", "README")
    assert proc.returncode == 0, proc.stderr
    assert committed_files(repo) == ["README", "README/part.txt"]
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").split() == [
        "README/part.txt", "src/app.py",
    ]  # fmt: skip


# -- replacements of `re`, compared with the expressions they replace --------------------------

_PLAIN_COMPONENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*\Z", re.ASCII)


def _plainly_valid_re(path: str) -> bool:
    return all(_PLAIN_COMPONENT.match(part) for part in path.split("/"))


NAME_CHARS = st.sampled_from(list("aZ09_.+-~\\/ é\t\n\x00ßİ٣"))


@settings(max_examples=2000, deadline=None)
@given(st.text(NAME_CHARS, max_size=12) | st.text(max_size=12))
def test_plainly_valid_says_what_the_regular_expression_said(path: str) -> None:
    assert staging.plainly_valid(path) == _plainly_valid_re(path)


def _cleanup_re(raw: bytes, mode: str, comment_char: str = "#") -> bytes:
    """message.cleanup as it was written with `re`."""
    if mode == "verbatim":
        return raw
    lines = raw.decode("utf-8", "surrogateescape").split("\n")
    if mode == "strip":
        lines = [line for line in lines if not line.startswith(comment_char)]
    out: list[str] = []
    for line in lines:
        line = re.sub(r"[ \t\r\f\v]+$", "", line)
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    if not out:
        return b""
    return ("\n".join(out) + "\n").encode("utf-8", "surrogateescape")


@settings(max_examples=2000, deadline=None)
@given(
    st.binary(max_size=40)
    | st.text(st.sampled_from(list("a# \t\r\f\v\n\x1c\x85\u00a0\u2028")), max_size=30).map(
        str.encode
    ),
    st.sampled_from(message.CLEANUP_MODES),
)
def test_cleanup_strips_what_the_regular_expression_stripped(raw: bytes, mode: str) -> None:
    assert message.cleanup(raw, mode) == _cleanup_re(raw, mode)


def test_the_message_file_is_read_relative_to_the_directory(tmp_path: Path) -> None:
    write(tmp_path, "sub/msg", "from a file\n")
    assert message.compose((), "sub/msg", tmp_path) == b"from a file\n"
    assert message.compose((), os.fspath(tmp_path / "sub/msg"), "/") == b"from a file\n"


def test_the_named_files_entries_come_from_the_cat_file_of_the_tree_edit(
    repo: Path, tmp_path: Path
) -> None:
    """A commit of files the tip tracks reads their entries from the directories the tree edit
    reads anyway (one `cat-file --batch`): no `ls-tree`. Fails on the code before (ls-tree,
    and a cat-file of the tree edit's own)."""
    write(repo, "src/app.py", "print('v2')\n")
    write(repo, "README", "changed\n")
    trace = tmp_path / "trace"
    proc = wt_commit(repo, "-m", "m", "--", "src/app.py", "README", env={"GIT_TRACE": str(trace)})
    assert proc.returncode == 0, proc.stderr
    ran = git_commands(trace)
    assert not [c for c in ran if c.startswith("ls-tree")], ran
    assert ran.count("cat-file --batch") == 1, ran
    assert committed_files(repo) == ["README", "src/app.py"]


def test_a_named_directory_is_still_listed_whole(repo: Path) -> None:
    """A named directory of the tip: its files' entries (a deleted one removed) come from
    `ls-tree`, as before."""
    write(repo, "src/lib.py", "lib\n")
    git(repo, "add", "src/lib.py")
    git(repo, "commit", "-qm", "lib")
    (repo / "src" / "lib.py").unlink()
    write(repo, "src/app.py", "print('v3')\n")
    write(repo, "src/new.py", "new\n")
    proc = wt_commit(repo, "-m", "m", "--", "src")
    assert proc.returncode == 0, proc.stderr
    assert committed_files(repo) == ["src/app.py", "src/lib.py", "src/new.py"]
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").split() == [
        "README", "src/app.py", "src/new.py",
    ]  # fmt: skip


def test_a_whole_commit_imports_nothing_heavy_with_or_without_json() -> None:
    """scripts/hot_imports.py: a plain commit and a --json one (as agents and the bench run it)
    load no module of its HEAVY list, and no project module pulls one in when imported alone."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "hot_imports.py"), "--json"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = json.loads(proc.stdout)
    assert found["whole_run"] == []
    assert {m: h for m, h in found["modules"].items() if h} == {}
    assert "worktree_tools.cli._output" in found["modules"]
