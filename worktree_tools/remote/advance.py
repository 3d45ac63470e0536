"""Move a checked-out branch forward without hiding anyone's work (RACES R10).

Moving a branch under a live worktree without touching its index and files makes the other
side's changes look like staged reversals. So the index and the files move with it, by git's own
two-tree merge (`git read-tree -m -u OLD NEW`, what `git checkout` and a fast-forward merge do):
only paths that differ between OLD and NEW are written, and git refuses, changing nothing, when
one of them has local changes (staged or not) or an untracked file is in the way. Then the branch
moves by compare-and-swap; if that loses, the files are put back. All under the repository lock,
so no wt-commit lands on the branch meanwhile.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from worktree_tools.commit.swap import index_search, stale_reporter
from worktree_tools.core import refs
from worktree_tools.core.enums import WordEnum
from worktree_tools.core.errors import WtError
from worktree_tools.core.gitlocks import wait_until_free
from worktree_tools.core.locks import REPO_LOCK, Holder, RecordedLock
from worktree_tools.core.repo import Worktree


class Advance(WordEnum):
    MOVED = "moved"
    NOT_AT_OLD = "not_at_old"  # the branch (or the worktree's HEAD) is no longer where we think
    BLOCKED = "blocked"  # a path that must change has local changes: nothing was touched


@dataclass(frozen=True)
class AdvanceResult:
    status: Advance
    detail: str = ""


def advance(
    wt: Worktree, ref: str, old: str, new: str, *, agent: str, reason: str, deadline: float
) -> AdvanceResult:
    """Move `ref`, checked out in `wt`, from `old` to `new`, carrying the index and files."""
    holder = Holder.me(agent)
    while True:
        with RecordedLock(wt.state_dir / REPO_LOCK, "repository lock", holder, deadline):
            if wt.head_ref() != ref:
                return AdvanceResult(Advance.NOT_AT_OLD, f"{wt.toplevel} is no longer on {ref}")
            now = wt.resolve(ref)
            if now is None or now[0] != old:
                return AdvanceResult(Advance.NOT_AT_OLD, f"{ref} is no longer at {old[:12]}")
            # Stat-only differences would make read-tree refuse clean files.
            wt.git(["update-index", "-q", "--refresh"], check=False)
            res = wt.git(["read-tree", "-m", "-u", old, new], check=False)
            if res.returncode == 0:
                try:
                    refs.move(wt, ref, new, old, reason, deadline=deadline)
                except WtError as refused:
                    # Someone moved the branch by other means (plain git): put the files back.
                    wt.git(["read-tree", "-m", "-u", new, old], check=False)
                    return AdvanceResult(Advance.NOT_AT_OLD, refused.message)
                return AdvanceResult(Advance.MOVED)
            lock = wt.index_path.with_name("index.lock")
            if "index.lock" not in res.err:
                return AdvanceResult(Advance.BLOCKED, res.err.strip())
        # Someone holds the index (a wt-commit landing waits for our repository lock): let go,
        # wait for the index, try again.
        dirs, exclude = index_search(wt)
        wait_until_free(lock, dirs, deadline, stale_reporter(wt, agent), exclude)
        if time.monotonic() >= deadline:
            return AdvanceResult(Advance.BLOCKED, f"{lock} stayed held")
