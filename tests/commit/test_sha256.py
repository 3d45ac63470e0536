"""wt-commit in a SHA-256 repository: the first commit (no null id hard-coded), later ones,
and the journal gate (git plumbing only)."""

from __future__ import annotations

from pathlib import Path

from conftest import git, git_wt, head, write, wt_commit


def test_first_and_later_commits(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q", "--object-format=sha256")
    write(root, "a.txt", "a\n")
    first = wt_commit(root, "-m", "first", "--", "a.txt")
    assert first.returncode == 0, first.stderr  # was: "not a valid old SHA1"
    assert len(head(root).strip()) == 64
    write(root, "a.txt", "b\n")
    assert wt_commit(root, "-m", "second", "--", "a.txt").returncode == 0
    assert git(root, "log", "--format=%s") == "second\nfirst\n"


def test_journal_gate_and_check(sha256_repo: Path) -> None:
    write(sha256_repo, "journal/a.md", "one\n")
    assert wt_commit(sha256_repo, "-m", "j", "--", "journal/a.md").returncode == 0
    write(sha256_repo, "journal/a.md", "rewritten\n")
    refused = wt_commit(sha256_repo, "-m", "bad", "--", "journal/a.md")
    assert refused.returncode == 6 and "rewritten" in refused.stderr
    git(sha256_repo, "add", "journal/a.md")
    assert git_wt(sha256_repo, "journal", "check").returncode == 6
