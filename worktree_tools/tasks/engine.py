"""The one way the board changes: read a snapshot, decide, write objects, swap; on a lost swap
read again and decide again, until the deadline.

A decision is either a `Result` (nothing to write: unchanged, or a refusal raised as an error)
or a `Write`: the tasks to rewrite, the claim records to replace, the board commit's message,
and the events to log once the swap has succeeded. Events are logged only after the swap, so the
event log never records a change that lost its race; a crash between the swap and the log loses
at most those lines (the board's history still has the commit).
"""

from __future__ import annotations

import time

from worktree_tools.core import events, faults
from worktree_tools.core.errors import Outcome, RefMoved
from worktree_tools.core.refs import RefUpdate
from worktree_tools.tasks.board import Board
from worktree_tools.tasks.claims import ClaimRecord, claim_ref
from worktree_tools.tasks.model import Task
from worktree_tools.tasks.objects import BlobWriter, write_board
from worktree_tools.tasks.store import oid_length
from worktree_tools.tasks.values import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from worktree_tools.tasks.store import BoardStore, Snapshot

    Decide = Callable[[Board, int], "Result | Write"]


class Result(Value):
    __slots__ = ("data", "outcome")

    def __init__(self, outcome: Outcome, data: dict[str, Any]) -> None:
        self.outcome = outcome
        self.data = data


class Write(Value):
    __slots__ = ("claims", "events", "message", "result", "tasks")

    def __init__(
        self,
        tasks: tuple[Task, ...],
        message: str,
        result: Result,
        claims: tuple[ClaimRecord, ...] = (),
        events: tuple[tuple[str, dict[str, Any]], ...] = (),
    ) -> None:
        self.tasks = tasks
        self.message = message
        self.result = result
        self.claims = claims
        self.events = events


class Ctx(Value):
    __slots__ = ("agent", "deadline", "store")

    def __init__(self, store: BoardStore, agent: str, deadline: float) -> None:
        self.store = store
        self.agent = agent
        self.deadline = deadline  # time.monotonic() value: stop retrying a contended swap after it

    @property
    def where(self) -> str:
        return self.store.where


def read(ctx: Ctx) -> Board:
    return Board.of(ctx.store.read(), time.time())


def _round(ctx: Ctx, decide: Decide, round_: int) -> tuple[bool, Result | None]:
    """One read-decide-swap: (True, result) when finished, (False, None) after a lost swap."""
    snap = ctx.store.read()
    board = Board.of(snap, time.time())
    decision = decide(board, round_)
    if isinstance(decision, Result):
        return True, decision
    updates = _write(ctx, snap, decision)
    faults.point("task-before-swap")
    if not ctx.store.swap(updates, ctx.deadline):
        return False, None
    faults.point("task-after-swap")
    for action, fields in decision.events:
        events.append(
            ctx.store.wt.state_dir_str,
            action,
            ctx.agent,
            where=ctx.where,
            board=updates[0].new if decision.tasks else None,
            **fields,
        )
    return True, decision.result


def _write(ctx: Ctx, snap: Snapshot, decision: Write) -> list[RefUpdate]:
    """Store the decision's objects (nothing is published); the ref moves that publish it."""
    wt = ctx.store.wt
    contents = [t.render().encode() for t in decision.tasks]
    contents += [rec.render() for rec in decision.claims]
    if not contents:
        return []
    # The blobs are stored while the trees and the commit naming them are built; `wait`
    # checks that git stored them under the ids computed here, before any ref moves.
    writer = BlobWriter(wt, contents, oid_length(snap))
    updates: list[RefUpdate] = []
    try:
        oids = writer.ids or writer.wait()
        if decision.tasks:
            files: dict[str, str | None] = {
                f"{t.id}.md": oid for t, oid in zip(decision.tasks, oids, strict=False)
            }
            root = list(snap.root)
            commit = write_board(wt, snap.tip, root, snap.files, files, decision.message, ctx.agent)
            updates.append(RefUpdate(ctx.store.ref, commit, snap.tip))
    finally:
        writer.wait()
    for rec, oid in zip(decision.claims, oids[len(decision.tasks) :], strict=True):
        updates.append(RefUpdate(claim_ref(rec.task), oid, snap.claims.get(rec.task)))
    return updates


def mutate(ctx: Ctx, decide: Decide) -> Result:
    """Decide on the current board and swap the decision in; again after a lost swap."""
    round_ = 0
    while True:
        started = time.monotonic()
        with ctx.store.turn(ctx.deadline):
            done, result = _round(ctx, decide, round_)
        if done:
            assert result is not None
            return result
        round_ += 1
        if time.monotonic() >= ctx.deadline:
            raise RefMoved(
                f"the task board ({ctx.where}) kept changing; gave up after {round_} attempts",
                fix="retry the same command (or raise --lock-timeout)",
            )
        # Jitter spreads the agents that lost the same swap, so they do not collide in step;
        # it grows with the cost of a round (a push to a remote is far slower than a local
        # swap), so that slow rounds are spread over as much time as they take.
        import random

        unit = max(0.004, time.monotonic() - started)
        time.sleep(random.uniform(0, unit * min(2**round_, 8)))
