"""What an installed shim does when git runs it: `git wt hooks run NAME -- ARGS`.

For pre-commit, take the worktree's hook lock first (the lock wt-commit holds while it runs a
hook), so two hook runs in one worktree never overlap even when people or agents use plain
`git commit` (RACES R6). wt-commit marks the hooks it runs (WT_HOOK_LOCK_HELD), and then the
shim does not wait for a lock its own committer holds. Then run the chained hook, if any, with
the same arguments and standard input, and finally the append-only journal rules: the staged
change at pre-commit (skipped under wt-commit, which applies them itself) and the pushed ranges
at pre-push.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from worktree_tools.core.locks import HOOK_LOCK, Holder, RecordedLock, lock_timeout
from worktree_tools.core.repo import discover
from worktree_tools.hooks.install import CHAINED_SUFFIX
from worktree_tools.hooks.stage import HELD_ENV

GUARDED = ("pre-commit",)
DEFAULT_GUARD_TIMEOUT = 600.0


def run_hook(name: str, hooks_dir: Path, args: list[str], cwd: Path) -> int:
    stdin = sys.stdin.buffer.read() if name == "pre-push" else b""
    under_wt_commit = bool(os.environ.get(HELD_ENV))
    if name in GUARDED and not under_wt_commit:
        from worktree_tools.core import agent as agent_mod

        wt = discover(cwd)
        who, _ = agent_mod.resolve(None, wt.gitdir)
        timeout = lock_timeout(None, DEFAULT_GUARD_TIMEOUT)
        holder = Holder.me(who)
        with RecordedLock(wt.gitdir / HOOK_LOCK, "hook lock", holder, time.monotonic() + timeout):
            env = {**os.environ, HELD_ENV: str(os.getpid())}
            rc = _chained(name, hooks_dir, args, stdin, env)
    else:
        rc = _chained(name, hooks_dir, args, stdin, dict(os.environ))
    if rc != 0:
        return rc
    if name == "pre-commit" and not under_wt_commit:
        from worktree_tools.journal import staged

        staged.check(discover(cwd), cwd)  # raises JournalViolation
    elif name == "pre-push":
        from worktree_tools.journal import prepush

        lines = [ln for ln in stdin.decode("utf-8", "replace").splitlines() if ln.strip()]
        remote = args[0] if args else "origin"
        prepush.check_push(cwd, remote, [prepush.RefUpdate.parse(ln) for ln in lines])
    return 0


def _chained(name: str, hooks_dir: Path, args: list[str], stdin: bytes, env: dict[str, str]) -> int:
    chained = hooks_dir / (name + CHAINED_SUFFIX)
    if not (chained.is_file() and os.access(chained, os.X_OK)):
        return 0
    return subprocess.run([os.fspath(chained), *args], input=stdin, env=env, check=False).returncode
