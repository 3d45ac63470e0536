"""The lander's bookkeeping: request changes under the queue lock, and each outcome recorded
in the request file and the event log (with its timings)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core import events
from worktree_tools.land import requests as rq
from worktree_tools.land.requests import Request, State


@dataclass
class Timing:
    """Where one request's time went (a batch's check and swap count for each of its requests)."""

    picked: float = 0.0
    integrate_ms: float = 0.0
    check_ms: float = 0.0
    swap_ms: float = 0.0
    checks: int = 0


def update(
    state_dir: Path,
    agent: str,
    deadline: float,
    changes: Callable[[Request], Request | None],
    ids: list[str],
    durable: bool = True,
) -> list[Request]:
    """Under the queue lock: apply `changes` to each request (None: leave it); the results.
    A claim need not be durable: lost, it is a queued request, which is what the next lander
    makes of a claimed one anyway."""
    out: list[Request] = []
    with rq.queue_lock(state_dir, agent, deadline):
        for rid in ids:
            req = rq.load(state_dir, rid)
            new = changes(req) if req is not None else None
            if new is not None:
                rq.save(state_dir, new, durable=durable)
                out.append(new)
    return out


def finish(
    state_dir: Path,
    agent: str,
    deadline: float,
    req: Request,
    state: State,
    result: dict[str, Any],
    timing: Timing | None,
    lander_pid: int,
) -> bool:
    """Record the outcome of a request still `landing` (False: it was not, e.g. cancelled)."""
    now = time.time()
    done = update(
        state_dir,
        agent,
        deadline,
        lambda r: (
            r.with_changes(state=state, stage=None, result=result, finished_epoch=now)
            if r.state is State.LANDING
            else None
        ),
        [req.id],
    )
    if not done:
        return False
    t = timing or Timing(picked=now)
    events.append(
        state_dir,
        "land",
        req.requested_by,
        outcome=state.value,
        request=req.id,
        branch=req.branch,
        target=req.target,
        remote=req.remote,
        owner=req.agent,
        strategy=req.strategy.value,
        head=req.head,
        commit=result.get("commit"),
        lander_pid=lander_pid,
        queue_wait_ms=round((t.picked - req.enqueued_epoch) * 1000, 3),
        integrate_ms=round(t.integrate_ms, 3),
        check_ms=round(t.check_ms, 3),
        checks=t.checks,
        swap_ms=round(t.swap_ms, 3),
        total_ms=round((now - req.enqueued_epoch) * 1000, 3),
    )
    return True
