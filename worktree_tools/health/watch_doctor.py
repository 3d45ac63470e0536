"""doctor's checks as `git wt watch` runs them: the same findings, and strictly read-only.

`doctor.examine` lists the worktrees under the worktree-admin lock (so that `git worktree list`
never meets a half-added entry) and writes that lock's holder record; a watcher must take no
lock and write nothing. So it lists the worktrees without the lock (a listing that fails is
a failed scan of this source: the watcher keeps its previous findings) and runs doctor's checks
with `fix=False` on that listing.
"""

from __future__ import annotations

from worktree_tools.core.repo import Worktree
from worktree_tools.health import doctor
from worktree_tools.health.doctor import Finding


def examine(wt: Worktree) -> list[Finding]:
    """What `git wt doctor` (without --fix) reports, without its lock."""
    dirs = doctor.worktree_dirs(wt, lock=False)
    found: list[Finding] = []
    found += doctor._locks(wt, dirs, fix=False, agent="watch")
    found += doctor._orphans(wt, dirs, fix=False, agent="watch")
    found += doctor._patches(wt, dirs, fix=False, agent="watch")
    found += doctor.config_findings(wt, linked=len(dirs) > 1, fix=False, agent="watch")
    found += doctor.hook_findings(wt, fix=False, agent="watch")
    found += doctor.gc_leftovers(wt, dirs)
    return found
