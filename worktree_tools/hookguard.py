"""What an installed shim does when git runs it: `git wt hooks run NAME -- ARGS`.

For pre-commit, take the worktree's hook lock first (the lock wt-commit holds while it runs a
hook), so two hook runs in one worktree never overlap even when people or agents use plain
`git commit` (RACES R6). wt-commit marks the hooks it runs (WT_HOOK_LOCK_HELD), and then the
shim does not wait for a lock its own committer holds. Then run the chained hook, if any, with
the same arguments and standard input.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from worktree_tools.hookinstall import CHAINED_SUFFIX
from worktree_tools.hookstage import HELD_ENV, HOOK_LOCK
from worktree_tools.locks import Holder, RecordedLock
from worktree_tools.repo import discover

GUARDED = ("pre-commit",)
DEFAULT_GUARD_TIMEOUT = 600.0


def run_hook(name: str, hooks_dir: Path, args: list[str], cwd: Path) -> int:
    stdin = sys.stdin.buffer.read() if name == "pre-push" else b""
    if name in GUARDED and not os.environ.get(HELD_ENV):
        from worktree_tools import agent as agent_mod

        wt = discover(cwd)
        who, _ = agent_mod.resolve(None, wt.gitdir)
        timeout = float(os.environ.get("WT_LOCK_TIMEOUT", DEFAULT_GUARD_TIMEOUT))
        holder = Holder.me(who)
        with RecordedLock(wt.gitdir / HOOK_LOCK, "hook lock", holder, time.monotonic() + timeout):
            env = {**os.environ, HELD_ENV: str(os.getpid())}
            return _chained(name, hooks_dir, args, stdin, env)
    return _chained(name, hooks_dir, args, stdin, dict(os.environ))


def _chained(name: str, hooks_dir: Path, args: list[str], stdin: bytes, env: dict[str, str]) -> int:
    chained = hooks_dir / (name + CHAINED_SUFFIX)
    if not (chained.is_file() and os.access(chained, os.X_OK)):
        return 0
    return subprocess.run([os.fspath(chained), *args], input=stdin, env=env, check=False).returncode
