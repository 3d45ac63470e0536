"""Landing a commit: the short critical section, and what to do when the branch moved.

Under git's index.lock, prepare the worktree's new index (the named paths set to the new commit,
every other entry kept); under the repository lock as well, put it in place, then move the
branch by compare-and-swap. If the swap fails, the index is put back. Outside the locks, a commit
whose base moved is replayed on the new tip when none of its paths changed there, and refused as
a conflict otherwise.
"""

from __future__ import annotations

import os

from worktree_tools.core import atomic, events, faults, notices, refs
from worktree_tools.core.entries import (
    PATHSPEC_LIMIT,
    apply,
    differences,
    index_entries,
    tree_entries,
)
from worktree_tools.core.errors import InvalidInput, RefMoved
from worktree_tools.core.gitcmd import nul_join
from worktree_tools.core.gitlocks import GitFileLock
from worktree_tools.core.locks import REPO_LOCK, Holder, RecordedLock
from worktree_tools.core.repo import Worktree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from worktree_tools.core.gitlocks import StaleReport

# An index larger than this (about 10,000 entries) is not refreshed when the named paths are
# synced: refreshing stats every tracked file.
REFRESH_LIMIT = 1 << 20


class Landing:
    """What one trip through the critical section cost."""

    __slots__ = ("hold_ms", "wait_ms")

    def __init__(self, wait_ms: float, hold_ms: float) -> None:
        self.wait_ms = wait_ms
        self.hold_ms = hold_ms


class Moved(Exception):
    """The branch is not where we built on (carries where it is now)."""

    def __init__(self, current: str | None) -> None:
        super().__init__(current)
        self.current = current
        self.landing = Landing(0.0, 0.0)


def index_search(wt: Worktree) -> tuple[list[str], list[str]]:
    """(dirs, exclude) for this worktree's index.lock: git working in this worktree, not in
    the worktrees worktree-tools nests under `<common git dir>/wt/` (agent trees, hook
    checkouts), which have their own index."""
    return [wt.toplevel_str, wt.gitdir_str], [wt.state_dir_str]


def stale_reporter(wt: Worktree, agent: str) -> StaleReport:
    def report(info: dict[str, Any]) -> None:
        notices.say(f"removed stale lock {info['lock']} ({info['why']})")
        events.append(wt.state_dir_str, "stale_lock_removed", agent, **info)

    return report


def land(
    wt: Worktree,
    agent: str,
    rels: list[str],
    ref: str,
    expected: str | None,
    new: str | None,
    deadline: float,
    tmp: str | os.PathLike[str],
    reason: str,
) -> Landing:
    """Sync the index, then CAS the branch. With `new` None only the index is synced to
    `expected` (the idempotent-retry path). Raises Moved (after restoring the index) when the
    branch is no longer at `expected`.

    The new index is prepared under index.lock alone (nobody can write the index meanwhile);
    the repository lock covers only putting it in place and the compare-and-swap, whose git
    process was started beforehand: the fleet-wide critical section starts no process."""
    report = stale_reporter(wt, agent)
    holder = Holder.me(agent)
    dirs, exclude = index_search(wt)
    lock = RecordedLock(
        os.path.join(wt.state_dir_str, REPO_LOCK), "repository lock", holder, deadline
    )
    # The ref move's git starts once index.lock is ours (judging a stale index.lock counts the
    # git processes working here), while the index is prepared: under the repository lock it
    # only prepares and commits its transaction (see refs.Pending).
    with GitFileLock(wt.index_str, dirs, deadline, report, exclude):
        if new is None:
            _land_locked(wt, rels, ref, expected, new, deadline, tmp, lock, None, report)
        else:
            with refs.Pending(wt, ref, new, expected, reason) as pending:
                _land_locked(wt, rels, ref, expected, new, deadline, tmp, lock, pending, report)
    return Landing(lock.wait_ms, lock.hold_ms)


def _land_locked(
    wt: Worktree,
    rels: list[str],
    ref: str,
    expected: str | None,
    new: str | None,
    deadline: float,
    tmp: str | os.PathLike[str],
    lock: RecordedLock,
    pending: refs.Pending | None,
    report: StaleReport,
) -> None:
    """land() once index.lock is ours (and the ref move's git started, with `new`)."""
    prepared = _prepare_index(wt, rels, new or expected, tmp)
    if pending is not None:
        pending.ready()
    try:
        with lock:
            faults.point("locked")
            still_on_branch(wt, ref)
            _swap(wt, ref, expected, new, prepared, pending, deadline, report)
    except Moved as moved:
        moved.landing = Landing(lock.wait_ms, lock.hold_ms)
        raise


class _Prepared:
    """A copy of the worktree's index with the named paths set to the target commit."""

    __slots__ = ("backup", "had_index", "staged")

    def __init__(self, staged: str | None, had_index: bool, backup: str) -> None:
        self.staged = staged  # None: the index already says exactly that
        self.had_index = had_index
        self.backup = backup


def _prepare_index(
    wt: Worktree, rels: list[str], target: str | None, tmp: str | os.PathLike[str]
) -> _Prepared:
    """A copy of the index with every entry covered by `rels` set as in `target`: `git reset
    TARGET -- PATHS`, done as data for many paths (git matches each entry against each
    pathspec), so that the cost stays linear in the number of paths."""
    index = wt.index_str
    had_index = os.path.exists(index)
    backup = os.path.join(tmp, "index-backup")
    if target is None:
        return _Prepared(None, had_index, backup)
    staged = os.path.join(tmp, "sync-index")
    if len(rels) <= PATHSPEC_LIMIT:  # few paths: git's own reset, one process
        if had_index:
            _start_from(index, staged)
        # A large index is not refreshed (a stat of every tracked file, most of reset's time
        # at 100,000 files): the named entries are then stat-dirty, as after the many-paths
        # branch below, until the next `git status` or `git add` refreshes them.
        large = had_index and os.stat(index).st_size > REFRESH_LIMIT
        refresh = ["--no-refresh"] if large else []
        wt.git(
            ["reset", "-q", *refresh, target, "--pathspec-from-file=-", "--pathspec-file-nul"],
            index=staged,
            input=nul_join(rels),
            literal=True,
        )
        if had_index and not _differs(index, staged):
            os.unlink(staged)
            return _Prepared(None, had_index, backup)
        return _Prepared(staged, had_index, backup)
    want, have = tree_entries(wt, target, rels), index_entries(wt, index, rels)
    changes = differences(want, have, frozenset(rels))
    if had_index and not changes:
        return _Prepared(None, had_index, backup)
    if had_index:
        _start_from(index, staged)
    apply(wt, staged, changes, len(target))
    return _Prepared(staged, had_index, backup)


def _start_from(index: str, staged: str) -> None:
    """`staged` as a copy of `index` for git to rewrite: a second link where the file system
    allows (git never writes an index in place: it writes `staged.lock` and renames it over
    `staged`, so the worktree's index is never touched), else a copy (8 MB at 100,000 files)."""
    try:
        os.link(index, staged)
    except OSError:
        atomic.copy_file(index, staged, durable=False)


def _differs(a: str, b: str) -> bool:
    """Whether two index files differ. An index ends with the hash of all that precedes it:
    equal sizes and equal trailers mean equal files, without reading 2 x 8 MB at 100,000
    files (unless the trailer is zeros: index.skipHash wrote no hash)."""
    size = os.stat(a).st_size
    if size != os.stat(b).st_size:
        return True
    with open(a, "rb") as fa, open(b, "rb") as fb:
        tail = min(size, 32)
        fa.seek(size - tail)
        fb.seek(size - tail)
        ta, tb = fa.read(), fb.read()
        if ta != tb:
            return True
        if ta[-20:].strip(b"\0"):
            return False
        fa.seek(0)
        fb.seek(0)
        return fa.read() != fb.read()


def _swap(
    wt: Worktree,
    ref: str,
    expected: str | None,
    new: str | None,
    prepared: _Prepared,
    pending: refs.Pending | None,
    deadline: float,
    report: StaleReport,
) -> None:
    """Under the repository lock: the index first, then the branch; undo the index on failure."""
    index = wt.index_str
    if new is None:
        now = wt.resolve(ref)
        if (now[0] if now else None) != expected:
            return  # the branch moved under a no-op retry: leave the index to its new owner
    if prepared.staged is not None:
        if prepared.had_index:
            os.link(index, prepared.backup)
        os.replace(prepared.staged, index)
    faults.point("index-synced")
    if pending is None:
        return
    try:
        try:
            pending.finish(deadline=deadline, report=report)
        except RefMoved as moved:
            raise Moved(moved.details.get("current")) from None
    except BaseException:
        # Lost the race, timed out on the ref lock, refused...: the branch did not move, so
        # the index must not show the commit staged. We still hold index.lock: nobody wrote
        # the index since we did.
        if prepared.staged is not None:
            if prepared.had_index:
                os.replace(prepared.backup, index)
            else:
                os.unlink(index)
        raise


def still_on_branch(wt: Worktree, ref: str) -> None:
    """What was checked before the hooks, checked again under index.lock (so no git checkout,
    rebase, merge or reset can be rewriting this worktree) before the index or the branch
    moves: plain git run meanwhile may have switched branches or started an operation."""
    try:
        now = wt.committable_branch()
    except InvalidInput as err:
        raise RefMoved(
            f"{err.message} (it started while committing); nothing was committed",
            fix=f"{err.fix}, then run the same wt-commit again",
            branch=ref.removeprefix("refs/heads/"),
        ) from None
    if now != ref:
        raise RefMoved(
            f"this worktree switched from {ref.removeprefix('refs/heads/')} to "
            f"{now.removeprefix('refs/heads/')} while committing; nothing was committed",
            fix="run the same wt-commit again (it commits onto the branch checked out then)",
            current_branch=now.removeprefix("refs/heads/"),
        )


def cas(
    wt: Worktree,
    ref: str,
    new: str,
    expected: str | None,
    reason: str,
    deadline: float,
    report: StaleReport,
) -> None:
    """core.refs.move, raising Moved (with where the branch is now) when it is not at
    `expected`: what wt-commit and land replay from."""
    try:
        refs.move(wt, ref, new, expected, reason, deadline=deadline, report=report)
    except RefMoved as moved:
        raise Moved(moved.details.get("current")) from None


def replay(
    wt: Worktree,
    rels: list[str],
    ref: str,
    base: str | None,
    current: str | None,
    ours: str,
) -> str | None:
    """The tree of our commit replayed on `current`, if none of our paths changed since `base`.
    None when `current` already has exactly our content; RefMoved (conflict) otherwise."""
    if current is None or base is None:
        raise RefMoved(
            f"{ref} was created or deleted while committing",
            fix="inspect `git log` and run the same wt-commit again",
        )
    from worktree_tools.core import trees  # only a commit whose branch moved replays

    names = trees.changed(wt, base, current, rels)
    if names:
        raise RefMoved(
            f"{ref} moved to {current[:12]} and that commit changed the same paths: "
            + ", ".join(names[:10]),
            fix=f"integrate {current[:12]} (git log {base[:12]}..{current[:12]} -- PATHS), "
            "then run wt-commit again",
            current=current,
        )
    tree = trees.overlay(wt, current, ours, rels)
    now = wt.resolve(ref)
    if now and now[0] == current and now[1] == tree:
        return None
    return tree
