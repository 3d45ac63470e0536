"""Board changes that are not claims: add, edit (fields, a whole file, cancel), block, unblock."""

from __future__ import annotations

import re
from dataclasses import dataclass

from worktree_tools.core.errors import InvalidInput, Outcome, RefMoved, Rejected
from worktree_tools.tasks.board import Board
from worktree_tools.tasks.claims import ClaimRecord
from worktree_tools.tasks.engine import Ctx, Result, Write, mutate
from worktree_tools.tasks.model import (
    DEFAULT_PRIORITY,
    HUMAN,
    CorruptTask,
    Task,
    TaskState,
    check_id,
    normal_body,
    now_iso,
    task_path,
)
from worktree_tools.worktrees.records import LeaseState

_AUTO_ID = re.compile(r"^T([0-9]{1,9})$")


@dataclass(frozen=True)
class NewTask:
    title: str
    id: str | None = None
    priority: int = DEFAULT_PRIORITY
    depends_on: tuple[str, ...] = ()
    body: str = ""
    next_action: str | None = None


def add(ctx: Ctx, specs: list[NewTask]) -> Result:
    """Add tasks (one commit for all of them). Ids default to T1, T2, ..."""
    for spec in specs:
        if spec.id is not None:
            check_id(spec.id)

    def decide(board: Board, _round: int) -> Write:
        taken = set(board.tasks) | set(board.corrupt)
        numbers = [int(m[1]) for k in taken if (m := _AUTO_ID.match(k))]
        counter = max(numbers, default=0)
        stamp = now_iso()
        made: list[Task] = []
        for spec in specs:
            task_id = spec.id
            if task_id is None:
                counter += 1
                task_id = f"T{counter}"
            if task_id in taken:
                raise InvalidInput(
                    f"task {task_id} already exists", fix=f"git wt task show {task_id}"
                )
            taken.add(task_id)
            task = Task(
                id=task_id,
                title=spec.title.strip(),
                priority=spec.priority,
                depends_on=tuple(dict.fromkeys(spec.depends_on)),
                next_action=spec.next_action,
                created=stamp,
                updated=stamp,
                body=normal_body(spec.body),
            )
            _valid(task)
            made.append(task)
        names = {t.id for t in made}
        for task in made:
            unknown = [d for d in task.depends_on if d not in board.tasks and d not in names]
            if unknown:
                raise InvalidInput(
                    f"task {task.id} depends on unknown task(s) {', '.join(unknown)}",
                    fix="git wt task list (add those tasks first)",
                )
        title = made[0].title if len(made) == 1 else f"{len(made)} tasks"
        return Write(
            tasks=tuple(made),
            message=f"add {', '.join(t.id for t in made[:5])}: {title}",
            result=Result(Outcome.OK, {"tasks": [t.id for t in made]}),
            events=tuple(
                ("task_add", {"task": t.id, "title": t.title, "priority": t.priority}) for t in made
            ),
        )

    return mutate(ctx, decide)


def _valid(task: Task) -> Task:
    try:
        task.check(task.id)
    except ValueError as exc:
        raise InvalidInput(f"invalid task: {exc}") from None
    return task


@dataclass(frozen=True)
class EditRequest:
    title: str | None = None
    priority: int | None = None
    depends_on: tuple[str, ...] | None = None
    body: str | None = None
    next_action: str | None = None
    cancel: bool = False
    reopen: bool = False
    text: str | None = None  # a whole new file (from the editor or --file)
    base: str | None = None  # the blob the text was edited from: refuse if the file moved


# What only the claim commands may change: an edit that changes them is refused.
_CLAIM_FIELDS = ("state", "assigned_to", "token", "claimed_at", "took_over_from")


def edit(ctx: Ctx, task_id: str, req: EditRequest) -> Result:
    check_id(task_id)
    path = task_path(task_id)

    def decide(board: Board, _round: int) -> Result | Write:
        entry = board.snap.files.get(f"{task_id}.md")
        if req.base is not None and (entry is None or entry.oid != req.base):
            raise RefMoved(
                f"{path} changed on the board while it was being edited; nothing was changed",
                fix=f"git wt task edit {task_id} (start again from the new version)",
            )
        current: Task | None = None
        if task_id not in board.corrupt:
            current = board.get(task_id)
        new = _edited(board, current, task_id, req)
        if current is not None and new == current and new.body == current.body:
            return Result(Outcome.UNCHANGED, {"task": board.view(current)})
        new = new.with_changes(updated=now_iso())
        _no_cycle(board, new)
        return Write(
            tasks=(new,),
            message=f"{task_id}: edited by {ctx.agent}",
            result=Result(Outcome.OK, {"task_id": task_id, "repaired": current is None}),
            events=(("task_edit", {"task": task_id, "repaired": current is None}),),
        )

    return mutate(ctx, decide)


def _edited(board: Board, current: Task | None, task_id: str, req: EditRequest) -> Task:
    if req.text is not None:
        try:
            new = Task.parse(req.text, task_path(task_id))
        except CorruptTask as err:
            raise InvalidInput(err.message, fix="fix the file and run the edit again") from None
        if current is not None:
            changed = [f for f in _CLAIM_FIELDS if getattr(new, f) != getattr(current, f)]
            if changed:
                raise InvalidInput(
                    f"an edit cannot change {', '.join(changed)} (the claim commands own them); "
                    "nothing was changed",
                    fix=f"git wt task claim|release|done|block|unblock {task_id}",
                )
        elif new.state is TaskState.CLAIMED:
            record = board.record(task_id)
            if record is None or (record.agent, record.token) != (new.assigned_to, new.token):
                raise InvalidInput(
                    f"the repaired {task_id} says claimed, but no claim record matches it",
                    fix="write it with state: open, then claim it",
                )
        return new
    if current is None:
        raise board.corrupt[task_id]
    changes: dict[str, object] = {}
    if req.title is not None:
        changes["title"] = req.title.strip()
    if req.priority is not None:
        changes["priority"] = req.priority
    if req.depends_on is not None:
        unknown = [d for d in req.depends_on if d not in board.tasks]
        if unknown:
            raise InvalidInput(
                f"unknown task(s) {', '.join(unknown)}", fix="git wt task list", task=task_id
            )
        changes["depends_on"] = tuple(dict.fromkeys(req.depends_on))
    if req.body is not None:
        changes["body"] = normal_body(req.body)
    if req.next_action is not None:
        changes["next_action"] = req.next_action or None
    if req.cancel:
        if current.state is TaskState.CLAIMED and board.lease(current).state is LeaseState.ACTIVE:
            raise Rejected(
                f"{task_id} is claimed by {current.assigned_to}; it was not cancelled",
                fix=f"ask {current.assigned_to} to release it: git wt task release {task_id}",
            )
        if current.state is not TaskState.DONE:
            changes.update(state=TaskState.CANCELLED, assigned_to=None)
    if req.reopen and current.state in (TaskState.CANCELLED, TaskState.DONE):
        changes.update(state=TaskState.OPEN, assigned_to=None)
    return _valid(current.with_changes(**changes))


def _no_cycle(board: Board, task: Task) -> None:
    graph = {k: t.depends_on for k, t in board.tasks.items()}
    graph[task.id] = task.depends_on
    seen: set[str] = set()
    stack = list(task.depends_on)
    while stack:
        node = stack.pop()
        if node == task.id:
            raise InvalidInput(
                f"{task.id} would depend on itself through its dependencies; nothing was changed"
            )
        if node not in seen:
            seen.add(node)
            stack.extend(graph.get(node, ()))


def block(ctx: Ctx, task_id: str, on: str, reason: str | None) -> Result:
    """Take a task out of `next`'s reach until `unblock` (or, blocked on a task, until that
    task is done). Blocking a claim you hold releases it."""
    check_id(task_id)
    if on != HUMAN:
        check_id(on)
        if on == task_id:
            raise InvalidInput("a task cannot be blocked on itself")
    elif not (reason or "").strip():
        raise InvalidInput(
            "blocking on a human needs the reason",
            fix=f'git wt task block {task_id} --on human --reason "what a person must do"',
        )

    def decide(board: Board, _round: int) -> Result | Write:
        task = board.get(task_id)
        if on != HUMAN:
            other = board.get(on)
            if other.state is TaskState.DONE:
                raise InvalidInput(f"{on} is done already; {task_id} would never be blocked")
        if task.state is TaskState.BLOCKED and task.blocked_on == on:
            return Result(Outcome.UNCHANGED, {"task": board.view(task)})
        if task.state in (TaskState.DONE, TaskState.CANCELLED):
            raise Rejected(f"{task_id} is {task.state.value}; it cannot be blocked")
        claims: tuple[ClaimRecord, ...] = ()
        if task.state is TaskState.CLAIMED:
            lease = board.lease(task)
            if task.assigned_to != ctx.agent and lease.state is LeaseState.ACTIVE:
                raise Rejected(
                    f"{task_id} is claimed by {task.assigned_to}; only its holder can block it",
                    fix=f"ask {task.assigned_to}, or wait for the claim to expire",
                    holder=task.assigned_to,
                )
            if lease.record is not None and not lease.record.released:
                claims = (lease.record.replace(released=True),)
        new = task.with_changes(
            state=TaskState.BLOCKED,
            blocked_on=on,
            block_reason=(reason or "").strip() or None,
            blocked_at=now_iso(),
            assigned_to=None,
            claimed_at=None,
            updated=now_iso(),
        )
        return Write(
            tasks=(new,),
            claims=claims,
            message=f"{task_id}: blocked on {on} by {ctx.agent}",
            result=Result(Outcome.OK, {"task_id": task_id}),
            events=(("task_block", {"task": task_id, "on": on, "reason": new.block_reason}),),
        )

    return mutate(ctx, decide)


def unblock(ctx: Ctx, task_id: str) -> Result:
    check_id(task_id)

    def decide(board: Board, _round: int) -> Result | Write:
        task = board.get(task_id)
        if task.state is not TaskState.BLOCKED:
            return Result(Outcome.UNCHANGED, {"task": board.view(task)})
        return Write(
            tasks=(opened(task),),
            message=f"{task_id}: unblocked by {ctx.agent}",
            result=Result(Outcome.OK, {"task_id": task_id}),
            events=(("task_unblock", {"task": task_id, "was_on": task.blocked_on}),),
        )

    return mutate(ctx, decide)


def opened(task: Task) -> Task:
    return task.with_changes(
        state=TaskState.OPEN,
        blocked_on=None,
        block_reason=None,
        blocked_at=None,
        updated=now_iso(),
    )
