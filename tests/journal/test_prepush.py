"""The pre-push hook, with real pushes to a real remote."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import git, head, write

ROOT = Path(__file__).resolve().parents[2]
ENTRY = "journal/a.md"


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    write(work, ENTRY, "one\n")
    git(work, "add", ENTRY)
    git(work, "commit", "-qm", "first")
    shutil.copy(ROOT / "hooks" / "pre-push", work / ".git" / "hooks" / "pre-push")
    (work / ".git" / "hooks" / "pre-push").chmod(0o755)
    git(work, "push", "-q", "origin", "main")
    return work


def push(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "push", *args], cwd=work, capture_output=True, text=True)


def remote_tip(work: Path, branch: str = "main") -> str:
    return git(work, "ls-remote", "origin", f"refs/heads/{branch}").split()[0]


def commit(work: Path, content: str, msg: str) -> str:
    write(work, ENTRY, content)
    git(work, "add", ENTRY)
    git(work, "commit", "-qm", msg)
    return head(work)


def test_valid_append_is_pushed(clone: Path) -> None:
    new = commit(clone, "one\ntwo\n", "append")
    proc = push(clone, "origin", "main")
    assert proc.returncode == 0, proc.stderr
    assert remote_tip(clone) == new


def test_violation_in_an_earlier_commit_is_refused(clone: Path) -> None:
    before = remote_tip(clone)
    commit(clone, "ONE\n", "rewrite")
    commit(clone, "one\n", "restore")  # the tip alone looks fine
    proc = push(clone, "origin", "main")
    assert proc.returncode != 0 and "rewritten" in proc.stderr
    assert remote_tip(clone) == before


def test_rewind_of_a_protected_branch_is_refused(clone: Path) -> None:
    commit(clone, "one\ntwo\n", "append")
    assert push(clone, "origin", "main").returncode == 0
    pushed = remote_tip(clone)
    git(clone, "reset", "-q", "--hard", "HEAD~1")
    commit(clone, "one\nother\n", "diverge")
    proc = push(clone, "--force", "origin", "main")
    assert proc.returncode != 0 and "not an ancestor" in proc.stderr
    assert remote_tip(clone) == pushed
    proc = push(clone, "origin", ":main")
    assert proc.returncode != 0 and "protected" in proc.stderr


def test_unprotected_branch_may_be_rewound_but_still_verified(clone: Path) -> None:
    git(clone, "switch", "-qc", "feature")
    commit(clone, "one\nfeature\n", "feature")
    assert push(clone, "origin", "feature").returncode == 0
    git(clone, "reset", "-q", "--hard", "HEAD~1")
    new = commit(clone, "one\nfeature v2\n", "feature again")
    proc = push(clone, "--force", "origin", "feature")
    assert proc.returncode == 0, proc.stderr
    assert remote_tip(clone, "feature") == new
    commit(clone, "rewritten\n", "bad")
    proc = push(clone, "origin", "feature")
    assert proc.returncode != 0 and "rewritten" in proc.stderr


def test_new_branch_with_a_bad_commit_is_refused(clone: Path) -> None:
    git(clone, "switch", "-qc", "topic")
    commit(clone, "", "truncate")
    proc = push(clone, "origin", "topic")
    assert proc.returncode != 0 and "truncated" in proc.stderr
