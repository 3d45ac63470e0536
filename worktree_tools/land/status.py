"""What `watch` says about the land queues: read-only (request files and process liveness)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.land import requests as rq
from worktree_tools.land.requests import Request, State


@dataclass(frozen=True)
class QueueFinding:
    kind: str  # queued, stuck, handed_back, corrupt
    subject: str  # the request id (or the file)
    detail: str
    instance: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def _where(req: Request) -> str:
    return f"{req.remote}/{req.target}" if req.remote else req.target


def _run_cmd(req: Request) -> str:
    push = f" --push --remote {req.remote}" if req.remote else ""
    return f"git wt land --run --into {req.target}{push}"


def findings(state_dir: Path, stuck_after: float, now: float | None = None) -> list[QueueFinding]:
    """Queued and landing requests; stuck ones (a dead lander, or queued longer than
    `stuck_after` seconds with no lander at work); requests handed back and not landed since."""
    now = time.time() if now is None else now
    reqs, bad = rq.load_all(state_dir)
    out = [QueueFinding("corrupt", str(e.details.get("request", "")), e.message) for e in bad]
    working = {r.key for r in reqs if r.state is State.LANDING and r.lander and r.lander.alive()}
    latest: dict[tuple[str, tuple[str, str | None]], Request] = {}
    for req in reqs:
        latest[(req.branch, req.key)] = req  # ids ascend: the last one wins
        base = {
            "request": req.id,
            "branch": req.branch,
            "agent": req.agent,
            "target": req.target,
            "remote": req.remote,
            "state": req.state.value,
        }
        age = now - req.enqueued_epoch
        if req.state is State.LANDING and req.lander is not None and not req.lander.alive():
            out.append(
                QueueFinding(
                    "stuck",
                    req.id,
                    f"{req.branch} -> {_where(req)}: its lander (pid {req.lander.pid}) is gone at "
                    f"stage {req.stage}; the next lander finishes it: {_run_cmd(req)}",
                    instance=f"{req.lander.pid}@{req.lander.started}",
                    data={**base, "fix": _run_cmd(req)},
                )
            )
        elif req.state is State.QUEUED and age > stuck_after and req.key not in working:
            out.append(
                QueueFinding(
                    "stuck",
                    req.id,
                    f"{req.branch} -> {_where(req)} queued {age:.0f}s ago and no lander is at "
                    f"work: {_run_cmd(req)}",
                    instance="no-lander",
                    data={**base, "fix": _run_cmd(req)},
                )
            )
        if not req.state.final:
            out.append(
                QueueFinding(
                    "queued",
                    req.id,
                    f"{req.branch} -> {_where(req)} {req.state.value} since "
                    f"{rq.iso(req.enqueued_epoch)}",
                    data=base,
                )
            )
    for req in latest.values():
        if req.state.handed_back:
            out.append(
                QueueFinding(
                    "handed_back",
                    req.id,
                    f"{req.branch} -> {_where(req)}: {req.state.value}: {req.result.get('error')}",
                    data={
                        "request": req.id,
                        "branch": req.branch,
                        "agent": req.agent,
                        "target": req.target,
                        "fix": req.result.get("fix"),
                    },
                )
            )
    return out
