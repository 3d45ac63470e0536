"""doctor's check of pre-commit's stranded patches (RACES R3): unstaged changes pre-commit
saved before its hooks ran and did not put back, because the commit was killed meanwhile."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from worktree_tools.core import events, statefiles
from worktree_tools.core.repo import Worktree
from worktree_tools.health.doctor import DoctorFinding, DoctorKind


def pre_commit_cache() -> Path:
    if os.environ.get("PRE_COMMIT_HOME"):
        return Path(os.environ["PRE_COMMIT_HOME"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pre-commit"


def findings(
    wt: Worktree, dirs: list[tuple[Path, Path]], *, fix: bool, agent: str
) -> list[DoctorFinding]:
    """pre-commit's `patch<epoch>-<pid>` files whose changes are missing from a worktree of
    ours: they apply cleanly there and are not applied already (RACES R3).

    A patch cannot tell "stranded by a killed commit" from "restored, then discarded on purpose"
    (pre-commit never deletes its patches), so the repair never writes into a live worktree: it
    secures the patch in the repository (the per-user cache is cleaned by `pre-commit clean`) and
    names the command that applies it. A patch whose pre-commit run is still alive is skipped."""
    cache = pre_commit_cache()
    if not cache.is_dir():
        return []
    out: list[DoctorFinding] = []
    hook_root = wt.state_dir / statefiles.HOOK_WORKTREES  # linked hook checkouts of older versions
    kept_dir = wt.state_dir / statefiles.RESCUED_PATCHES
    for patch in sorted(cache.glob("patch*")):
        if _writer_alive(patch.name):
            continue  # a pre-commit run is between its stash and its restore right now
        keep = kept_dir / patch.name
        if keep.exists() and keep.read_bytes() == patch.read_bytes():
            continue  # secured by an earlier --fix; the apply command was given then
        for top, _gitdir in dirs:
            if hook_root in top.parents:
                continue  # hook checkouts are reset before every use
            applies = _apply(top, patch, reverse=False)
            applied = _apply(top, patch, reverse=True)
            if not applies or applied:
                continue
            finding = DoctorFinding(
                DoctorKind.STRANDED_PATCH,
                os.fspath(patch),
                f"unstaged changes saved by pre-commit that are not in {top} (stranded by a "
                "killed commit, or restored and discarded since: look before applying)",
                fixable=True,
                undo=None,
                extra={"worktree": os.fspath(top), "apply": f"git -C {top} apply {keep}"},
            )
            if fix:
                kept_dir.mkdir(parents=True, exist_ok=True)
                shutil.copy2(patch, keep)
                finding.fixed = True
                events.append(
                    wt.state_dir, "stranded_patch_secured", agent, patch=os.fspath(patch),
                    kept=os.fspath(keep), worktree=os.fspath(top),
                )  # fmt: skip
            out.append(finding)
            break
    return out


def _writer_alive(name: str) -> bool:
    """pre-commit names its patch `patch<epoch>-<pid>`: is that pid still running?"""
    pid = name.rpartition("-")[2]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _apply(top: Path, patch: Path, *, reverse: bool) -> bool:
    """Whether `patch` would apply (or, `reverse`, is applied already) in worktree `top`."""
    from worktree_tools.core.gitcmd import clean_env, git

    args = ["apply", "--check", "--whitespace=nowarn", *(["-R"] if reverse else [])]
    res = git([*args, os.fspath(patch)], cwd=top, env=clean_env(), check=False)
    return res.returncode == 0
