"""core.refs.move: the one compare-and-swap ref move. Real git, real refs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git, write

from worktree_tools.core import refs
from worktree_tools.core.errors import RefMoved
from worktree_tools.core.repo import discover


def _commit(repo: Path, name: str) -> str:
    write(repo, name, name + "\n")
    git(repo, "add", name)
    git(repo, "commit", "-qm", name)
    return git(repo, "rev-parse", "HEAD").strip()


def test_creates_moves_and_deletes_only_from_the_expected_value(repo: Path) -> None:
    wt = discover(repo)
    one = git(repo, "rev-parse", "HEAD").strip()
    two = _commit(repo, "b")
    ref = "refs/heads/test-x"  # a branch: git keeps its reflog
    refs.move(wt, ref, one, None, refs.reflog("git wt test", "alice", "create"))
    assert refs.current(wt, ref) == one
    refs.move(wt, ref, two, one, refs.reflog("git wt test", "alice", "advance"))
    assert refs.current(wt, ref) == two
    assert git(repo, "reflog", "-1", "--format=%gs", ref).strip() == "git wt test (alice): advance"
    refs.move(wt, ref, None, two, refs.reflog("git wt test", "alice", "delete"))
    assert refs.current(wt, ref) is None


def test_never_overwrites_what_someone_else_wrote(repo: Path) -> None:
    wt = discover(repo)
    one = git(repo, "rev-parse", "HEAD").strip()
    two = _commit(repo, "b")
    ref = "refs/wt/test/y"
    git(repo, "update-ref", ref, two)  # someone else got there first
    with pytest.raises(RefMoved) as created:
        refs.move(wt, ref, one, None, "test")
    assert created.value.details["current"] == two
    with pytest.raises(RefMoved) as moved:
        refs.move(wt, ref, one, one, "test")  # we think it is at one; it is at two
    assert moved.value.details["current"] == two
    with pytest.raises(RefMoved):
        refs.move(wt, ref, None, one, "test")  # delete: only from the value we expect
    assert refs.current(wt, ref) == two


def test_detached_head_moves_without_touching_the_branch(repo: Path) -> None:
    wt = discover(repo)
    one = git(repo, "rev-parse", "HEAD").strip()
    two = _commit(repo, "b")
    git(repo, "checkout", "-q", "--detach", two)
    refs.move(wt, "HEAD", one, two, "test", no_deref=True)
    assert git(repo, "rev-parse", "HEAD").strip() == one
    assert git(repo, "rev-parse", "refs/heads/main").strip() == two
