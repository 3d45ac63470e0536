"""Claims: claim, next, heartbeat, release, done. Each is one compare-and-swap (engine.mutate).

    claim   open, deps done              -> claimed by me, token = previous token + 1
            claimed by me, lease live    -> unchanged (same token)
            claimed by me, owner died    -> mine again, owner = the caller, same token
            claimed, owner dead/expired  -> taken over: token + 1, took_over_from recorded
            claimed by another, live     -> Rejected (exit 6) naming the holder
    next    my live claim if I hold one (unchanged), else claim the first ready task
    heartbeat  my claim's record gets a new heartbeat (a ref move, no commit)
    release    open again, with a handoff for the next agent; the record is marked released
    done       only with the current token; tasks blocked on it open again

The fencing token is what `done`, `heartbeat` and `release --token` check: once a claim is
taken over, the old holder's token is refused.
"""

from __future__ import annotations

import time

from worktree_tools.core.errors import InvalidInput, Outcome, Rejected
from worktree_tools.tasks.claims import ClaimRecord, check_ttl
from worktree_tools.tasks.engine import Result, Write, mutate
from worktree_tools.tasks.model import TaskState, check_id, now_iso
from worktree_tools.worktrees.records import LeaseState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from worktree_tools.tasks.board import Board
    from worktree_tools.tasks.claims import Lease
    from worktree_tools.tasks.engine import Ctx
    from worktree_tools.tasks.model import Task
    from worktree_tools.worktrees.records import Owner


def _view(task: Task, record: ClaimRecord | None, now: float) -> dict[str, Any]:
    data = task.to_json()
    data["claim"] = record.to_json(now) if record else None
    data["lease"] = "active" if task.state is TaskState.CLAIMED else None
    return data


def _payload(
    action: str, task: Task, record: ClaimRecord | None, now: float, **extra: Any
) -> dict[str, Any]:
    return {
        "action": action,
        "task_id": task.id,
        "token": task.token,
        "handoff": task.handoff,
        "task": _view(task, record, now),
        **extra,
    }


def _holder_error(board: Board, task: Task, lease: Lease, agent: str) -> Rejected:
    rec = lease.record
    left = max(0.0, rec.expires_at - board.now) if rec else 0.0
    where = f"pid {rec.owner.pid} on {rec.owner.host}, " if rec else ""
    return Rejected(
        f"{task.id} is claimed by {task.assigned_to!r} ({where}token {task.token}, lease "
        f"{lease.state.value} for {left:.0f}s more); {agent} did not get it",
        fix="git wt task next (for another task), or wait for the claim to be released or to "
        "expire",
        task_id=task.id,
        holder=task.assigned_to,
        token=task.token,
    )


def _backs(record: ClaimRecord | None, task: Task, agent: str) -> bool:
    """Whether `record` is the live record of AGENT's claim on `task`."""
    return (
        record is not None
        and not record.released
        and record.agent == agent == task.assigned_to
        and record.token == task.token
    )


def _take(
    ctx: Ctx, board: Board, task: Task, owner: Owner, ttl: float, verb: str
) -> Result | Write:
    """Claim `task` for ctx.agent, whatever its current state allows."""
    now = board.now
    agent = ctx.agent
    if task.state is TaskState.CLAIMED:
        lease = board.lease(task)
        mine = _backs(lease.record, task, agent)
        if mine and lease.state is LeaseState.ACTIVE:
            return Result(Outcome.UNCHANGED, _payload("already_held", task, lease.record, now))
        if mine and lease.record is not None:
            # My own claim, its owner gone or its lease run out, and nobody took it over: the
            # agent came back, and renews it under the same token.
            record = lease.record.replace(owner=owner, heartbeat=now, ttl=ttl)
            return Write(
                tasks=(),
                claims=(record,),
                message="",
                result=Result(Outcome.OK, _payload("reclaimed", task, record, now)),
                events=(("task_claim", {"task": task.id, "token": task.token, "via": verb,
                                        "how": "reclaimed"}),),
            )  # fmt: skip
        if not lease.takeable and not mine:
            raise _holder_error(board, task, lease, agent)
        previous = task.assigned_to
        action = "took_over" if previous != agent else "claimed"
    elif task.state is TaskState.OPEN:
        lease = None
        previous = None
        action = "claimed"
    else:
        detail = f": {task.block_reason}" if task.block_reason else ""
        on = f" on {task.blocked_on}{detail}" if task.state is TaskState.BLOCKED else ""
        raise Rejected(
            f"{task.id} is {task.state.value}{on}; it cannot be claimed",
            fix=f"git wt task unblock {task.id}"
            if task.state is TaskState.BLOCKED
            else "git wt task next",
            task_id=task.id,
            state=task.state.value,
        )
    waiting = board.waiting_on(task)
    if waiting:
        raise Rejected(
            f"{task.id} depends on {', '.join(waiting)}, not done yet",
            fix="git wt task next (it takes only tasks whose dependencies are done)",
            task_id=task.id,
            waiting_on=waiting,
        )
    token = board.next_token(task)
    stamp = now_iso(now)
    new = task.with_changes(
        state=TaskState.CLAIMED,
        assigned_to=agent,
        token=token,
        claimed_at=stamp,
        took_over_from=previous if action == "took_over" else None,
        updated=stamp,
    )
    record = ClaimRecord(new.id, agent, token, owner, now, now, ttl)
    fields: dict[str, Any] = {"task": task.id, "token": token, "via": verb, "how": action}
    evs: list[tuple[str, dict[str, Any]]] = [("task_claim", fields)]
    if action == "took_over" and lease is not None:
        evs = [
            (
                "task_takeover",
                {**fields, "took_over_from": previous, "previous_token": task.token,
                 "lease_before": lease.state.value, "why": lease.why},
            )
        ]  # fmt: skip
    extra = {"took_over_from": previous} if action == "took_over" else {"took_over_from": None}
    what = f"took over from {previous} ({lease.why})" if action == "took_over" and lease else ""
    return Write(
        tasks=(new,),
        claims=(record,),
        message=f"{task.id}: claimed by {agent}, token {token}" + (f"; {what}" if what else ""),
        result=Result(Outcome.OK, _payload(action, new, record, now, **extra)),
        events=tuple(evs),
    )


def claim(ctx: Ctx, task_id: str, owner: Owner, ttl: float) -> Result:
    check_id(task_id)
    check_ttl(ttl)
    return mutate(ctx, lambda board, _r: _take(ctx, board, board.get(task_id), owner, ttl, "claim"))


def next_task(ctx: Ctx, owner: Owner, ttl: float) -> Result:
    """My live claim if I have one; else the most urgent ready task, claimed atomically."""
    check_ttl(ttl)

    def decide(board: Board, round_: int) -> Result | Write:
        held = sorted(board.held_by(ctx.agent), key=lambda t: (t.priority, t.created, t.id))
        for task in held:
            lease = board.lease(task)
            if _backs(lease.record, task, ctx.agent) or lease.takeable:
                return _take(ctx, board, task, owner, ttl, "next")
        pick = board.pick(round_)
        if pick is None:
            return Result(
                Outcome.UNCHANGED,
                {"action": "none_ready", "task_id": None, "token": None, "handoff": None,
                 "task": None, "counts": board.counts()},
            )  # fmt: skip
        return _take(ctx, board, pick, owner, ttl, "next")

    return mutate(ctx, decide)


def _mine(ctx: Ctx, board: Board, task_id: str, token: int | None, verb: str) -> Lease:
    """The lease of my claim on `task_id`, or Rejected (not mine, or my token is stale)."""
    task = board.get(task_id)
    lease = board.lease(task)
    if task.state is not TaskState.CLAIMED or lease.record is None:
        raise Rejected(
            f"cannot {verb} {task_id}: it is {task.state.value}"
            + (f" (holder {task.assigned_to})" if task.assigned_to else ""),
            fix=f"git wt task claim {task_id}",
            task_id=task_id,
            state=task.state.value,
        )
    if task.assigned_to != ctx.agent:
        raise Rejected(
            f"cannot {verb} {task_id}: it is claimed by {task.assigned_to!r} (token {task.token})"
            + (f", not by {ctx.agent!r}" if ctx.agent else ""),
            fix=f"git wt task claim {task_id} (if its claim expired, it is taken over)",
            task_id=task_id,
            holder=task.assigned_to,
            current_token=task.token,
        )
    if token is not None and token != task.token:
        raise Rejected(
            f"cannot {verb} {task_id}: token {token} is stale (the claim is at token "
            f"{task.token}); nothing was changed",
            fix=f"git wt task claim {task_id}",
            task_id=task_id,
            token=token,
            current_token=task.token,
        )
    return lease


def heartbeat(
    ctx: Ctx, task_id: str, owner: Owner | None, token: int | None, ttl: float | None
) -> Result:
    """Renew my claim: a new claim record (the ref moves; no commit is added)."""
    check_id(task_id)
    if ttl is not None:
        check_ttl(ttl)

    def decide(board: Board, _round: int) -> Write:
        lease = _mine(ctx, board, task_id, token, "renew")
        record = lease.record
        assert record is not None
        changes: dict[str, Any] = {"heartbeat": board.now}
        if ttl is not None:
            changes["ttl"] = ttl
        if owner is not None or lease.state is LeaseState.OWNER_DEAD:
            changes["owner"] = owner or record.owner
        new = record.replace(**changes)
        evs: tuple[tuple[str, dict[str, Any]], ...] = ()
        if lease.state is not LeaseState.ACTIVE or ttl is not None or "owner" in changes:
            fields = {"task": task_id, "token": record.token, "ttl": new.ttl}
            evs = (("task_heartbeat", {**fields, "lease_before": lease.state.value}),)
        task = board.get(task_id)
        return Write(
            tasks=(),
            claims=(new,),
            message="",
            result=Result(
                Outcome.OK,
                {**_payload("renewed", task, new, board.now), "lease_before": lease.state.value},
            ),
            events=evs,
        )

    return mutate(ctx, decide)


def release(ctx: Ctx, task_id: str, token: int | None, handoff: dict[str, Any]) -> Result:
    """Give the task back (open), with a handoff for whoever takes it next."""
    check_id(task_id)

    def decide(board: Board, _round: int) -> Write:
        lease = _mine(ctx, board, task_id, token, "release")
        assert lease.record is not None
        task = board.get(task_id)
        new = task.with_changes(
            state=TaskState.OPEN,
            assigned_to=None,
            claimed_at=None,
            handoff=handoff,
            next_action=handoff.get("next_step") or task.next_action,
            updated=now_iso(board.now),
        )
        record = lease.record.replace(released=True)
        return Write(
            tasks=(new,),
            claims=(record,),
            message=f"{task_id}: released by {ctx.agent} (token {task.token}) with a handoff",
            result=Result(Outcome.OK, _payload("released", new, record, board.now)),
            events=(("task_release", {"task": task_id, "token": task.token,
                                      "handoff": handoff}),),
        )  # fmt: skip

    return mutate(ctx, decide)


def done(ctx: Ctx, task_id: str, token: int) -> Result:
    """Mark my claimed task done; only the current token is accepted."""
    check_id(task_id)
    if token < 1:
        raise InvalidInput("--token must be the claim's fencing token (1 or more)")

    def decide(board: Board, _round: int) -> Result | Write:
        task = board.get(task_id)
        if task.state is TaskState.DONE and task.assigned_to == ctx.agent and task.token == token:
            return Result(Outcome.UNCHANGED, _payload("already_done", task, None, board.now))
        lease = _mine(ctx, board, task_id, token, "finish")
        assert lease.record is not None
        stamp = now_iso(board.now)
        new = task.with_changes(state=TaskState.DONE, updated=stamp)
        from worktree_tools.tasks.edits import opened  # here: claim and next never need it

        freed = [opened(t) for t in board.blocked_by_task(task_id)]
        record = lease.record.replace(released=True)
        evs: list[tuple[str, dict[str, Any]]] = [("task_done", {"task": task_id, "token": token})]
        evs += [("task_unblock", {"task": t.id, "was_on": task_id}) for t in freed]
        return Write(
            tasks=(new, *freed),
            claims=(record,),
            message=f"{task_id}: done by {ctx.agent} (token {token})",
            result=Result(
                Outcome.OK,
                {**_payload("done", new, record, board.now), "unblocked": [t.id for t in freed]},
            ),
            events=tuple(evs),
        )

    return mutate(ctx, decide)


def wait_deadline(seconds: float) -> float:
    return time.monotonic() + seconds
