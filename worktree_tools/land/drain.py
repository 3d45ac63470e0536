"""Becoming a queue's lander: the lander lock (tried, never waited for) and the drain loop
around lander.Run. Moved out of land/lander.py unchanged."""

from __future__ import annotations

import time

from worktree_tools.core.errors import LockTimeout
from worktree_tools.core.locks import LANDER_LOCK_SUFFIX, Holder, RecordedLock
from worktree_tools.core.repo import Worktree
from worktree_tools.land import requests as rq
from worktree_tools.land.lander import Run
from worktree_tools.land.requests import State


def lander_lock(wt: Worktree, target: str, remote: str | None, agent: str) -> RecordedLock:
    """Non-blocking: the caller tries it and, if busy, waits for the request file instead."""
    path = rq.land_dir(wt.state_dir) / f"{rq.key_name(target, remote)}{LANDER_LOCK_SUFFIX}"
    return RecordedLock(path, f"lander lock of {target}", Holder.me(agent), time.monotonic())


def try_drain(
    wt: Worktree, target: str, remote: str | None, agent: str, batch: int, lock_timeout: float
) -> bool:
    """Become the queue's lander and land everything queued; False if another lander is.

    After letting go of the lock the queue is read once more: a request queued just before we
    let go, whose sender found the lock busy, is ours to land (nobody else will look)."""
    ran = False
    while True:
        try:
            with lander_lock(wt, target, remote, agent):
                Run(wt, target, remote, agent, batch, lock_timeout).drain()
        except LockTimeout as err:
            if str(err.details.get("lock", "")).endswith(LANDER_LOCK_SUFFIX):
                return ran
            raise
        ran = True
        reqs, _bad = rq.load_all(wt.state_dir)
        if not any(r.key == (target, remote) and r.state is State.QUEUED for r in reqs):
            return ran
