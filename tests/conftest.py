"""Hermetic real-git fixtures: HOME, config, identity and dates pinned; the CLI run as a
subprocess exactly as agents run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from worktree_tools.contract import conventions, schemas
from worktree_tools.guard.actor import MARKERS

HARNESS_MARKERS = tuple(var for var, _, _ in MARKERS)
BIN = Path(sys.executable).parent
WT_COMMIT = os.fspath(BIN / "wt-commit")
GIT_WT = os.fspath(BIN / "git-wt")


@pytest.fixture(autouse=True)
def hermetic_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Agent\n\temail = agent@example.com\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    monkeypatch.setenv("HOME", os.fspath(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", os.fspath(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("PRE_COMMIT_HOME", os.fspath(home / "pre-commit-cache"))
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")
    for var in (
        "WT_AGENT",
        "WT_FAULT",
        "WT_LOCK_TIMEOUT",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_DATE",
        *HARNESS_MARKERS,  # a test run inside an agent harness is still a person's run
    ):
        monkeypatch.delenv(var, raising=False)


def git(
    cwd: Path,
    *args: str,
    input: bytes | None = None,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> str:
    """Run git; return stdout as text (surrogateescape for odd names)."""
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        env={**os.environ, **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode("utf-8", "surrogateescape")


def check_json_output(command: list[str], stdout: str) -> None:
    """Every `--json` output a test produces is validated against the command's shipped schema
    (the envelope alone for a command that has none yet; the schema test lists those)."""
    options = command[: command.index("--")] if "--" in command else command
    if "--json" not in options or not stdout.strip():
        return
    name = "commit" if command[0] == "commit-cli" else schemas.command_of(command[1:])
    schema = schemas.schema(name) if name else schemas.ENVELOPE
    lines = stdout.strip().splitlines()
    if name == "watch" and "--once" not in options:
        return  # the stream: one event a line, each checked by the watch tests
    assert len(lines) == 1, f"--json printed {len(lines)} lines, not one object: {stdout[:300]}"
    payload = json.loads(lines[0])
    jsonschema.validate(payload, schema)
    broken = conventions.violations(payload)
    assert not broken, f"{' '.join(command)}: {broken}"


def wt_commit(
    cwd: Path, *args: str, env: dict[str, str] | None = None, input: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [WT_COMMIT, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input and input.decode(),
        env={**os.environ, **(env or {})},
        errors="surrogateescape",
    )
    check_json_output(["commit-cli", *args], proc.stdout)
    return proc


def git_wt(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [GIT_WT, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        errors="surrogateescape",
    )
    check_json_output(["git-wt", *args], proc.stdout)
    return proc


def git_commands(trace: Path) -> list[str]:
    """Each git command line a run started, from its GIT_TRACE file (`built-in: git ...`)."""
    return [
        line.split("built-in: git ", 1)[1]
        for line in trace.read_text().splitlines()
        if "built-in: git " in line
    ]


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def committed_files(repo: Path, rev: str = "HEAD") -> list[str]:
    """Paths changed by commit `rev` (against its first parent, or all for a root)."""
    out = git(repo, "show", "--name-only", "-z", "--format=", "--no-renames", rev)
    return sorted(p for p in out.split("\0") if p)


def status(repo: Path) -> str:
    return git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all")


def snapshot(repo: Path) -> tuple[str, bytes, str, str]:
    """Everything bad input must leave alone: refs, the index bytes, status, the event log."""
    gitdir = Path(git(repo, "rev-parse", "--absolute-git-dir").strip())
    common = Path(git(repo, "rev-parse", "--path-format=absolute", "--git-common-dir").strip())
    index = gitdir / "index"
    refs = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    head = (gitdir / "HEAD").read_text()
    return (
        refs + head,
        index.read_bytes() if index.exists() else b"",
        status(repo),
        (common / "wt" / "events.jsonl").read_text()
        if (common / "wt" / "events.jsonl").exists()
        else "",
    )


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A repository on `main` with one commit holding README and src/app.py."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    write(root, "README", "hello\n")
    write(root, "src/app.py", "print('v1')\n")
    git(root, "add", "README", "src/app.py")
    git(root, "commit", "-qm", "initial")
    yield root


@pytest.fixture
def sha256_repo(tmp_path: Path) -> Iterator[Path]:
    """Like `repo`, in a repository with SHA-256 object ids (64 hex digits, another null id
    and another empty tree)."""
    root = tmp_path / "repo256"
    root.mkdir()
    git(root, "init", "-q", "--object-format=sha256")
    write(root, "README", "hello\n")
    write(root, "src/app.py", "print('v1')\n")
    git(root, "add", "README", "src/app.py")
    git(root, "commit", "-qm", "initial")
    assert len(git(root, "rev-parse", "HEAD").strip()) == 64
    yield root


def head(repo: Path, rev: str = "HEAD") -> str:
    return git(repo, "rev-parse", rev).strip()


def run_in_fresh_python(
    cwd: Path, entry: str, argvs: Sequence[list[str]], report: str
) -> subprocess.CompletedProcess[str]:
    """Run the console entry point `worktree_tools.cli.ENTRY` once per argv in one fresh
    interpreter (each run must exit 0), then print `report`, a Python expression over
    `sys.modules`: what a command imports, as a new process pays for it."""
    code = (
        f"import sys\nfrom worktree_tools.cli import {entry}\n"
        f"for argv in {list(argvs)!r}:\n    sys.argv = argv\n"
        f"    try:\n        {entry}()\n    except SystemExit as e:\n"
        "        assert e.code == 0, e.code\n"
        f"print({report})\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)


PROJECT = Path(__file__).resolve().parent.parent


def copy_project(dest: Path, *extra: str) -> Path:
    """What a source distribution of this project holds (plus the top-level files `extra`),
    copied to `dest` so that a build or a pip install writes nothing into the checkout."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", *extra):
        shutil.copy2(PROJECT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("bin", "man", "worktree_tools"):  # launchers, manual pages, the package
        shutil.copytree(PROJECT / name, dest / name, ignore=ignore)
    return dest


def run_all(procs: Sequence[subprocess.Popen[Any]], timeout: float = 120) -> list[int]:
    return [p.wait(timeout=timeout) for p in procs]
