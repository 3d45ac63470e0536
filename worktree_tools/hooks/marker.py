"""The mark wt-commit puts on the hooks it runs, and its proof.

wt-commit holds the worktree's hook lock while a hook runs, so the shim inside that hook must not
wait for the lock (or check the journal: wt-commit applies the rules itself). An environment
variable is inherited by anything, so the mark alone proves nothing: it is `PID:NONCE:GITDIR`,
and it counts only while `GITDIR/wt-hooks.json` (written by that wt-commit, under the lock,
before the hook starts) names the same pid and nonce and that pid is the live process that wrote
it, and the process checking it descends from that pid (wt-commit started the hook). A copied,
stale or forged mark fails the proof, and the shim then takes the lock and checks
the journal as for a plain `git commit`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HELD_ENV = "WT_HOOK_LOCK_HELD"
RECORD_NAME = "wt-hooks.json"


def new_nonce() -> str:
    return os.urandom(16).hex()


def mark(gitdir: Path, nonce: str) -> str:
    return f"{os.getpid()}:{nonce}:{os.fspath(gitdir)}"


@dataclass(frozen=True)
class Proof:
    gitdir: Path  # the worktree whose hook lock the committer holds
    cwd: Path  # where it runs the hook (the worktree, or its hook checkout)


def verify(value: str | None) -> Proof | None:
    """The lock holder that `value` names, when the record proves it; None otherwise."""
    if not value:
        return None
    parts = value.split(":", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1]:
        return None
    pid, nonce, gitdir = int(parts[0]), parts[1], Path(parts[2])
    from worktree_tools.core import fields

    try:
        data = fields.obj(fields.loads((gitdir / RECORD_NAME).read_bytes()))
        ok = fields.opt_text(data, "nonce", max_len=128) == nonce
        ok = ok and fields.integer(data, "pid", lo=1, hi=fields.MAX_PID) == pid
        started, cwd = fields.number(data, "started"), Path(fields.text(data, "cwd"))
    except (OSError, ValueError):
        return None
    if not ok:
        return None
    from worktree_tools.core.procs import alive_before

    if not alive_before(pid, started):
        return None  # the committer is gone: the mark outlived the lock it stood for
    if not _descends_from(pid):
        return None  # a copy of a live committer's mark, in a process it did not start
    return Proof(gitdir, cwd)


def _descends_from(pid: int) -> bool:
    import psutil

    try:
        return any(p.pid == pid for p in psutil.Process().parents())
    except psutil.Error:
        return False
