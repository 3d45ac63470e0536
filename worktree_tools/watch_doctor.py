"""doctor's checks as `git wt watch` runs them: the same findings, and strictly read-only.

`doctor.examine` lists the worktrees under the worktree-admin lock (so that `git worktree list`
never meets a half-added entry) and writes that lock's holder record; a watcher must take no
lock and write nothing. So it lists the worktrees without the lock (a listing that fails is
a failed scan of this source: the watcher keeps its previous findings) and runs doctor's checks
with `fix=False` on that listing.
"""

from __future__ import annotations

import os

from worktree_tools import doctor
from worktree_tools.doctor import Finding
from worktree_tools.repo import Worktree


def examine(wt: Worktree) -> list[Finding]:
    """What `git wt doctor` (without --fix) reports, without its lock."""
    dirs = doctor.worktree_dirs(wt, lock=False)
    found: list[Finding] = []
    found += doctor._locks(wt, dirs, fix=False, agent="watch")
    found += doctor._orphans(wt, dirs, fix=False, agent="watch")
    found += doctor._patches(wt, dirs, fix=False, agent="watch")
    found += _config(wt, linked=len(dirs) > 1)
    return found


def _config(wt: Worktree, *, linked: bool) -> list[Finding]:
    """doctor's leaked-config checks: settings in the shared config that act on every worktree."""
    if not linked:
        return []
    common = os.fspath(wt.commondir / "config")

    def get(key: str) -> str:
        return wt.git(["config", "--file", common, "--get", key], check=False).out.strip()

    out: list[Finding] = []
    value = get("core.worktree")
    if value:
        out.append(
            Finding(
                "leaked_config",
                "core.worktree",
                f"core.worktree={value} in the shared config points every worktree at one "
                "directory (git wt doctor --fix unsets it)",
                fixable=True,
            )
        )
    for key in ("user.name", "user.email"):
        got = get(key)
        if got:
            out.append(
                Finding(
                    "leaked_config",
                    key,
                    f"{key}={got} is in the repository's shared config, so every worktree "
                    "commits as it",
                    fixable=False,
                )
            )
    return out
