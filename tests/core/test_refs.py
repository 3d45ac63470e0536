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


def test_a_transaction_moves_every_ref_or_none(repo: Path) -> None:
    """core.refs.transaction: several refs from their expected values, in one git transaction;
    one ref someone else moved stops all of them (the task board and its claims)."""
    wt = discover(repo)
    one = git(repo, "rev-parse", "HEAD").strip()
    two = _commit(repo, "b")
    blob = git(repo, "hash-object", "-w", "--stdin", input=b"claim\n").strip()
    board, claim, gone = "refs/heads/test-board", "refs/wt/test-claims/1", "refs/wt/test/gone"
    git(repo, "update-ref", gone, one)
    refs.transaction(
        wt,
        [refs.RefUpdate(board, one, None), refs.RefUpdate(claim, blob, None),
         refs.RefUpdate(gone, None, one)],
        refs.reflog("wt task", "alice"),
    )  # fmt: skip
    assert refs.currents(wt, [board, claim, gone]) == {board: one, claim: blob}
    assert refs.current(wt, claim) == blob  # a ref naming a blob has no tree to report
    assert git(repo, "reflog", "-1", "--format=%gs", board).strip() == "wt task (alice)"

    git(repo, "update-ref", claim, one)  # someone else renewed the claim meanwhile
    with pytest.raises(RefMoved) as lost:
        refs.transaction(
            wt,
            [refs.RefUpdate(board, two, one), refs.RefUpdate(claim, two, blob)],
            refs.reflog("wt task", "alice"),
        )
    assert lost.value.details["current"] == one
    assert refs.currents(wt, [board, claim]) == {board: one, claim: one}  # neither moved


def test_a_transaction_clears_a_stale_ref_lock_and_waits_for_a_live_one(repo: Path) -> None:
    """The same lock policy as `move`: a ref lock no process holds is removed and reported and
    the transaction goes through; one a live git process may hold is waited for until the
    deadline (LockTimeout), and nothing moves."""
    import subprocess
    import time

    from worktree_tools.core.errors import LockTimeout

    wt = discover(repo)
    one = git(repo, "rev-parse", "HEAD").strip()
    two = _commit(repo, "b")
    ref = "refs/heads/test-locked"
    git(repo, "update-ref", ref, one)
    lock = wt.commondir / (ref + ".lock")
    lock.write_bytes(b"")  # left by a killed git
    seen: list[dict[str, object]] = []
    update = [refs.RefUpdate(ref, two, one)]
    refs.transaction(wt, update, "test", deadline=time.monotonic() + 30, report=seen.append)
    assert refs.current(wt, ref) == two and len(seen) == 1 and not lock.exists()

    lock.write_bytes(b"")
    holder = subprocess.Popen(["git", "cat-file", "--batch"], cwd=repo, stdin=subprocess.PIPE)
    try:
        with pytest.raises(LockTimeout):
            refs.transaction(wt, [refs.RefUpdate(ref, one, two)], "test",
                             deadline=time.monotonic() + 0.3)  # fmt: skip
        assert lock.exists() and refs.current(wt, ref) == two
    finally:
        holder.kill()
        holder.wait()


# refs.Pending: the git process started ahead of the lock, the transaction finished under it.


def test_pending_moves_the_ref_with_the_reflog_message(repo: Path) -> None:
    wt = discover(repo)
    one = git(repo, "rev-parse", "HEAD").strip()
    two = _commit(repo, "b")
    ref = "refs/heads/test-p"
    git(repo, "update-ref", ref, one)
    with refs.Pending(wt, ref, two, one, refs.reflog("git wt test", "alice", "ahead")) as p:
        p.ready()
        assert refs.current(wt, ref) == one  # started, not moved
        p.finish()
    assert refs.current(wt, ref) == two
    assert git(repo, "reflog", "-1", "--format=%gs", ref).strip() == "git wt test (alice): ahead"


def test_pending_checks_the_expected_value_when_it_finishes(repo: Path) -> None:
    """The compare is made under the caller's lock, at `finish`, not when git was started: a
    ref moved in between is refused and left where the other writer put it."""
    wt = discover(repo)
    one = git(repo, "rev-parse", "HEAD").strip()
    two = _commit(repo, "b")
    three = _commit(repo, "c")
    ref = "refs/heads/test-q"
    git(repo, "update-ref", ref, one)
    with refs.Pending(wt, ref, two, one, "test") as p:
        p.ready()
        git(repo, "update-ref", ref, three, one)  # someone else moved it meanwhile
        with pytest.raises(RefMoved) as moved:
            p.finish()
    assert moved.value.details["current"] == three
    assert refs.current(wt, ref) == three
    with refs.Pending(wt, "refs/heads/test-new", two, None, "test") as p:
        git(repo, "update-ref", "refs/heads/test-new", three, "")  # created meanwhile
        with pytest.raises(RefMoved):
            p.finish()
    assert refs.current(wt, "refs/heads/test-new") == three


def test_pending_never_finished_moves_nothing(repo: Path) -> None:
    wt = discover(repo)
    one = git(repo, "rev-parse", "HEAD").strip()
    two = _commit(repo, "b")
    ref = "refs/heads/test-r"
    git(repo, "update-ref", ref, one)
    with pytest.raises(KeyError), refs.Pending(wt, ref, two, one, "test") as p:
        p.ready()
        raise KeyError("the caller failed before finishing")
    assert refs.current(wt, ref) == one
    assert not (Path(wt.commondir) / (ref + ".lock")).exists()
