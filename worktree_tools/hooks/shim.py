"""What an installed shim does when git runs it: `git wt hooks run NAME -- ARGS`.

For pre-commit, take the worktree's hook lock first (the lock wt-commit holds while it runs a
hook), so two hook runs in one worktree never overlap even when people or agents use plain
`git commit` (RACES R6). A hook that wt-commit runs carries its mark (see marker); when the mark
is proven, the shim neither waits for the lock its own committer holds nor checks the journal
(wt-commit applies the rules itself), so each commit's checks run exactly once. Then run the
chained hook, if any, with the same arguments and standard input and under the name it was
installed as, and finally the append-only journal rules: the staged change at pre-commit and the
pushed ranges at pre-push.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from worktree_tools.core.locks import HOOK_LOCK, Holder, RecordedLock, lock_timeout
from worktree_tools.core.repo import Worktree, discover
from worktree_tools.hooks import marker, stashlock
from worktree_tools.hooks.shimtext import CHAINED_SUFFIX
from worktree_tools.hooks.slots import interpreter

GUARDED = ("pre-commit",)
DEFAULT_GUARD_TIMEOUT = 600.0


def run_hook(name: str, hooks_dir: Path, args: list[str], cwd: Path) -> int:
    stdin = sys.stdin.buffer.read() if name == "pre-push" else b""
    wt = discover(cwd) if name in GUARDED else None
    under_wt_commit = wt is not None and _proven(wt)
    env = {k: v for k, v in os.environ.items() if k != marker.HELD_ENV or under_wt_commit}
    if wt is not None and not under_wt_commit:
        from worktree_tools.core import agent as agent_mod

        who, _ = agent_mod.resolve(None, wt.gitdir)
        timeout = lock_timeout(None, DEFAULT_GUARD_TIMEOUT)
        holder = Holder.me(who)
        deadline = time.monotonic() + timeout
        shared = stashlock.uses_stash(hooks_dir, name, wt.toplevel)
        with (
            RecordedLock(wt.gitdir / HOOK_LOCK, "hook lock", holder, deadline),
            stashlock.held(wt.state_dir, holder, deadline, shared),
        ):
            rc = _chained(name, hooks_dir, args, stdin, env)
    else:
        rc = _chained(name, hooks_dir, args, stdin, env)
    if rc != 0:
        return rc
    if wt is not None and name == "pre-commit" and not under_wt_commit:
        from worktree_tools.journal import staged

        staged.check(wt, cwd)  # raises JournalViolation
    elif name == "pre-push":
        from worktree_tools.journal import prepush

        lines = [ln for ln in stdin.decode("utf-8", "replace").splitlines() if ln.strip()]
        remote = args[0] if args else "origin"
        prepush.check_push(cwd, remote, [prepush.RefUpdate.parse(ln) for ln in lines])
    return 0


def _proven(wt: Worktree) -> bool:
    """The hook runs under a live wt-commit that holds this worktree's hook lock (it runs the
    hook in the worktree itself, or in its hook checkout)."""
    proof = marker.verify(os.environ.get(marker.HELD_ENV))
    if proof is None:
        return False
    return proof.gitdir == wt.gitdir or proof.cwd == wt.toplevel


def _chained(name: str, hooks_dir: Path, args: list[str], stdin: bytes, env: dict[str, str]) -> int:
    chained = hooks_dir / (name + CHAINED_SUFFIX)
    if not (chained.is_file() and os.access(chained, os.X_OK)):
        return 0
    shell = interpreter(chained)
    if shell is None:
        argv = [os.fspath(chained), *args]
    else:
        # Sourced with $0 = the hook's installed name: husky's stub runs `.husky/$(basename $0)`.
        env = {**env, "WT_CHAINED_HOOK": os.fspath(chained)}
        argv = [*shell, "-c", '. "$WT_CHAINED_HOOK"', os.fspath(hooks_dir / name), *args]
    return subprocess.run(argv, input=stdin, env=env, check=False).returncode
