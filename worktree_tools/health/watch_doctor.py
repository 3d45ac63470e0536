"""doctor's checks as `git wt watch` runs them: the same findings, and strictly read-only.

`doctor.examine` lists the worktrees under the worktree-admin lock (so that `git worktree list`
never meets a half-added entry) and writes that lock's holder record; a watcher must take no
lock and write nothing. So it lists the worktrees without the lock (a listing that fails is
a failed scan of this source: the watcher keeps its previous findings) and runs doctor's checks
with `fix=False` on that listing.
"""

from __future__ import annotations

from worktree_tools.core.repo import Worktree
from worktree_tools.health import doctor, patches
from worktree_tools.health.doctor import DoctorFinding, DoctorKind
from worktree_tools.health.findings import Kind

# Each kind doctor finds, as the watch names it (git's locks are judged by age: health/watch.py).
WATCH_KIND: dict[DoctorKind, Kind] = {
    DoctorKind.STRANDED_PATCH: Kind.STRANDED_PATCH,
    DoctorKind.ORPHAN_HOOK: Kind.ORPHAN_HOOK,
    DoctorKind.ORPHAN_HOOK_UNPROVEN: Kind.ORPHAN_HOOK,
    DoctorKind.LEAKED_CONFIG: Kind.LEAKED_CONFIG,
    DoctorKind.HOOKS_BYPASSED: Kind.HOOKS_BYPASSED,
    DoctorKind.HOOK_STASH_LEFTOVER: Kind.HOOK_STASH_LEFTOVER,
    DoctorKind.GC_LEFTOVER: Kind.GC_LEFTOVER,
    DoctorKind.CORRUPT_RECORD: Kind.CORRUPT_RECORD,
}


def examine(wt: Worktree) -> list[DoctorFinding]:
    """What `git wt doctor` (without --fix) reports, without its lock."""
    dirs = doctor.worktree_dirs(wt, lock=False)
    found: list[DoctorFinding] = []
    found += doctor._locks(wt, dirs, fix=False, agent="watch")
    found += doctor._orphans(wt, dirs, fix=False, agent="watch")
    found += patches.findings(wt, dirs, fix=False, agent="watch")
    found += doctor.config_findings(wt, linked=len(dirs) > 1, fix=False, agent="watch")
    found += doctor.hook_findings(wt, fix=False, agent="watch")
    found += doctor.gc_leftovers(wt, dirs)
    return found
