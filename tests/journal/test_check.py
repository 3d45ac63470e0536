"""`git wt journal check` (the staged change, the pre-commit hook) and the wt-commit gate."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import git, git_wt, head, write, wt_commit

from worktree_tools.core.errors import JournalViolation
from worktree_tools.core.repo import discover
from worktree_tools.journal.gate import check_staged_tree

ROOT = Path(__file__).resolve().parents[2]
ENTRY = "journal/2026-01-01/a.md"


@pytest.fixture
def jrepo(repo: Path) -> Path:
    write(repo, ENTRY, "first\n")
    git(repo, "add", ENTRY)
    git(repo, "commit", "-qm", "journal")
    return repo


def check(repo: Path) -> tuple[int, dict[str, Any]]:
    proc = git_wt(repo, "journal", "check", "--json")
    return proc.returncode, json.loads(proc.stdout)


def install(repo: Path, hook: str, name: str) -> None:
    dest = repo / ".git" / "hooks" / name
    shutil.copy(ROOT / "hooks" / hook, dest)
    dest.chmod(0o755)


def test_staged_append_passes_and_edit_is_rejected(jrepo: Path) -> None:
    write(jrepo, ENTRY, "first\nsecond\n")
    git(jrepo, "add", ENTRY)
    rc, payload = check(jrepo)
    assert rc == 0 and payload["outcome"] == "ok" and payload["parents"] == [head(jrepo)]
    write(jrepo, ENTRY, "First\nsecond\n")
    rc, payload = check(jrepo)
    assert rc == 0  # not staged yet: the check reads the index, not the working tree
    git(jrepo, "add", ENTRY)
    rc, payload = check(jrepo)
    assert rc == 6 and payload["outcome"] == "rejected"
    assert [(v["path"], v["kind"]) for v in payload["violations"]] == [(ENTRY, "rewritten")]


def test_staged_chmod_and_delete(jrepo: Path) -> None:
    git(jrepo, "update-index", "--chmod=+x", ENTRY)
    assert check(jrepo)[1]["violations"][0]["kind"] == "mode_changed"
    git(jrepo, "rm", "-qf", "--cached", ENTRY)
    assert check(jrepo)[1]["violations"][0]["kind"] == "deleted"


def test_pre_commit_hook_refuses_git_commit(jrepo: Path) -> None:
    install(jrepo, "journal-pre-commit", "pre-commit")
    before = head(jrepo)
    write(jrepo, ENTRY, "rewritten\n")
    proc = subprocess.run(
        ["git", "commit", "-qm", "edit", "--", ENTRY], cwd=jrepo, capture_output=True, text=True
    )
    assert proc.returncode != 0 and "rewritten" in proc.stderr
    assert head(jrepo) == before
    git(jrepo, "add", ENTRY)
    assert subprocess.run(["git", "commit", "-qm", "edit"], cwd=jrepo).returncode != 0
    assert head(jrepo) == before
    write(jrepo, ENTRY, "first\nsecond\n")
    git(jrepo, "add", ENTRY)
    git(jrepo, "commit", "-qm", "append")
    assert head(jrepo) != before


def test_wt_commit_runs_the_hook_on_its_private_index(jrepo: Path) -> None:
    install(jrepo, "journal-pre-commit", "pre-commit")
    before = head(jrepo)
    write(jrepo, ENTRY, "rewritten\n")
    proc = wt_commit(jrepo, "-m", "edit", "--json", "--", ENTRY)
    assert proc.returncode == 5, proc.stderr
    assert "rewritten" in json.loads(proc.stdout)["hook_output"]
    assert head(jrepo) == before
    write(jrepo, ENTRY, "first\nmore\n")
    assert wt_commit(jrepo, "-m", "append", "--", ENTRY).returncode == 0


def test_merge_in_progress_is_checked_against_merge_head(jrepo: Path) -> None:
    git(jrepo, "switch", "-qc", "side")
    write(jrepo, "journal/side.md", "side entry\n")
    git(jrepo, "add", "journal/side.md")
    git(jrepo, "commit", "-qm", "side")
    side = head(jrepo)
    git(jrepo, "switch", "-q", "main")
    write(jrepo, "journal/main.md", "main entry\n")
    git(jrepo, "add", "journal/main.md")
    git(jrepo, "commit", "-qm", "main")
    git(jrepo, "merge", "-q", "--no-commit", "-s", "ours", "side")  # drops side.md
    rc, payload = check(jrepo)
    assert rc == 6 and payload["parents"][1] == side
    assert [(v["path"], v["kind"], v["parent"]) for v in payload["violations"]] == [
        ("journal/side.md", "deleted", side)
    ]
    git(jrepo, "checkout", side, "--", "journal/side.md")
    assert check(jrepo)[0] == 0


def test_gate_is_cheap_for_paths_outside_the_journal(jrepo: Path) -> None:
    """A bad tree passes the gate when the committed paths cannot reach the journal: the
    gate trusts `touched`, so it need not list or read anything."""
    git(jrepo, "rm", "-q", "--cached", ENTRY)
    bad_tree = git(jrepo, "write-tree").strip()
    wt = discover(jrepo)
    check_staged_tree(wt, [head(jrepo)], bad_tree, ["src/app.py", "README"])
    for touched in (["journal"], [ENTRY], ["."], ["journal/2026-01-01"]):
        with pytest.raises(JournalViolation) as info:
            check_staged_tree(wt, [head(jrepo)], bad_tree, touched)
        assert info.value.details["violations"][0]["kind"] == "deleted"


def test_gate_never_imports_pygit2(jrepo: Path) -> None:
    write(jrepo, ENTRY, "first\nsecond\n")
    git(jrepo, "add", ENTRY)
    tree = git(jrepo, "write-tree").strip()
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from worktree_tools.core.repo import discover\n"
        "from worktree_tools.journal.gate import check_staged_tree\n"
        f"check_staged_tree(discover(Path('.')), [{head(jrepo)!r}], {tree!r}, [{ENTRY!r}])\n"
        "check_staged_tree(discover(Path('.')), [], {tree!r}, ['src'])\n".replace(
            "{tree!r}", repr(tree)
        )
        + "assert 'pygit2' not in sys.modules, 'pygit2 imported'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=jrepo, capture_output=True, text=True, env=os.environ
    )
    assert proc.returncode == 0, proc.stderr


def test_a_configuration_that_does_not_parse_is_refused(jrepo: Path) -> None:
    write(jrepo, ".wtjournal", "[journal\n\tpath = x\n")
    git(jrepo, "add", ".wtjournal")
    rc, payload = check(jrepo)
    assert rc == 2 and "does not parse" in payload["error"]
    write(jrepo, ".wtjournal", "[journal]\n\tpath = journal/**\n\tpath = notes/**\n")
    git(jrepo, "add", ".wtjournal")
    assert check(jrepo)[0] == 0


def test_check_does_not_need_the_index_lock(jrepo: Path) -> None:
    """Another agent's git holding index.lock must not make the check fail."""
    write(jrepo, ENTRY, "first\nsecond\n")
    git(jrepo, "add", ENTRY)
    lock = jrepo / ".git" / "index.lock"
    lock.write_bytes(b"")
    try:
        assert check(jrepo)[0] == 0
    finally:
        lock.unlink()


def test_blobs_are_checked_not_the_working_tree(jrepo: Path) -> None:
    """With core.autocrlf the working tree holds CRLF while the blobs hold LF: the rules see
    the blobs, so a clean append passes and nothing is mistaken for a rewrite."""
    git(jrepo, "config", "core.autocrlf", "true")
    write(jrepo, ENTRY, "first\r\nsecond\r\n")
    git(jrepo, "add", ENTRY)
    assert git(jrepo, "cat-file", "-p", f":{ENTRY}") == "first\nsecond\n"
    assert check(jrepo)[0] == 0
    git(jrepo, "commit", "-qm", "append")
    assert git_wt(jrepo, "journal", "verify").returncode == 0
