"""What every `git wt task` command does once its options are read, without click: resolve
the run (worktree, agent, board), call the command's body, render the result. The click
commands (cli/task_common.py) and the lean reader of `next`/`claim` (cli/task_lean.py) share it."""

from __future__ import annotations

import os

from worktree_tools.cli._output import emit, run_guarded

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Body = Callable[..., "tuple[Any, str]"]

PREFIX = "wt:"


def execute(
    name: str,
    body: Body,
    /,
    *,
    holder: bool,
    agent: str | None,
    remote: str | None,
    as_json: bool,
    lock_timeout: float,
    **own: Any,
) -> int:
    """`git wt task NAME`: resolve the run (inside run_guarded, so a bad --agent or board is a
    typed refusal), call `body` with the run and the command's own options, print the
    (result, text) it returns; the exit code."""

    def run_body() -> int:
        run = Run(agent, remote, lock_timeout, holder=holder)
        result, text = body(run, **own)
        return out(run, result, as_json, text)

    return run_guarded(f"git wt task {name}", as_json, run_body)


class Run:
    """What every command resolves once: the worktree, the agent, the board store."""

    def __init__(
        self, agent: str | None, remote: str | None, lock_timeout: float, *, holder: bool
    ) -> None:
        from worktree_tools.core import agent as agent_mod
        from worktree_tools.core.errors import InvalidInput
        from worktree_tools.core.repo import discover
        from worktree_tools.tasks.engine import Ctx
        from worktree_tools.tasks.store import open_store, settings

        self.wt = discover(os.getcwd())
        name, source = agent_mod.resolve(agent, self.wt.gitdir_str)
        if holder and source == "fallback":
            raise InvalidInput(
                "a claim needs a named agent, not the user@host fallback every process here shares",
                fix="pass --agent NAME or set WT_AGENT",
            )
        self.agent = name
        self.lock_timeout = lock_timeout
        self.conf = settings(self.wt)  # read once: every wt.task.* setting
        self.store = open_store(self.wt, name, remote=remote, conf=self.conf)
        import time

        self.ctx = Ctx(self.store, name, time.monotonic() + lock_timeout)

    def ttl(self, given: float | None) -> float:
        from worktree_tools.core.errors import InvalidInput
        from worktree_tools.tasks.claims import DEFAULT_TTL

        if given is not None:
            return given
        raw = self.conf.get("wt.task.ttl")
        if raw is None:
            return DEFAULT_TTL
        try:
            return float(raw)
        except ValueError:
            raise InvalidInput(
                f"wt.task.ttl is not a number of seconds: {raw!r}",
                fix="git config wt.task.ttl 1800",
            ) from None

    def owner(self, pid: int | None) -> Any:
        from worktree_tools.worktrees.lease import owner_for

        return owner_for(pid)


def out(run: Run | None, result: Any, as_json: bool, text: str) -> int:
    from worktree_tools.core.errors import exit_code

    payload = {
        "outcome": result.outcome.value,
        "agent": run.agent if run else None,
        "where": run.store.where if run else None,
        **result.data,
    }
    emit(payload, as_json, text)
    return exit_code(result.outcome)


def handoff_text(handoff: dict[str, Any] | None) -> list[str]:
    if not handoff:
        return []
    lines = [f"handoff from {handoff.get('agent')} ({handoff.get('created')}):"]
    for key, label in (("remaining", "remaining"), ("next_step", "next step")):
        if handoff.get(key):
            lines.append(f"  {label}: {handoff[key]}")
    for blocker in handoff.get("blockers") or []:
        lines.append(f"  blocker: {blocker}")
    for item in handoff.get("assumptions") or []:
        lines.append(f"  assumed: {item}")
    commits = handoff.get("commits") or []
    if handoff.get("branch"):
        lines.append(f"  branch: {handoff['branch']} ({len(commits)} commit(s))")
    if handoff.get("uncommitted"):
        lines.append(f"  uncommitted: {len(handoff['uncommitted'])} path(s)")
    return lines


def claim_text(data: dict[str, Any]) -> str:
    if data.get("task") is None:
        counts = data.get("counts") or {}
        return (
            f"no task ready ({counts.get('open', 0)} open, {counts.get('claimed', 0)} claimed, "
            f"{counts.get('blocked', 0)} blocked)"
        )
    task = data["task"]
    lines = handoff_text(data.get("handoff"))
    head = f"{task['id']}: {data['action']} by {task['assigned_to']}, token {data['token']}"
    if data.get("took_over_from"):
        head += f" (took over from {data['took_over_from']})"
    lines.insert(0, head + f" - {task['title']}")
    if data.get("worktree"):
        lines.append(f"worktree: {data['worktree']} (branch {data.get('branch')})")
    return "\n".join(lines)


def next_body(run: Run, owner_pid: int | None, ttl: float | None, alloc: bool) -> tuple[Any, str]:
    """`git wt task next`, its options read."""
    from worktree_tools.tasks.claiming import next_task

    result = next_task(run.ctx, run.owner(owner_pid), run.ttl(ttl))
    alloc_worktree(run, result, alloc)
    return result, claim_text(result.data)


def claim_body(
    run: Run, task_id: str, owner_pid: int | None, ttl: float | None, alloc: bool
) -> tuple[Any, str]:
    """`git wt task claim TASK_ID`, its options read."""
    from worktree_tools.tasks.claiming import claim

    result = claim(run.ctx, task_id, run.owner(owner_pid), run.ttl(ttl))
    alloc_worktree(run, result, alloc)
    return result, claim_text(result.data)


def alloc_worktree(run: Run, result: Any, alloc: bool) -> None:
    if not alloc or result.data.get("task_id") is None:
        return
    from worktree_tools.tasks.worktree import alloc_for

    result.data.update(alloc_for(run.wt, run.agent, result.data["task_id"], run.lock_timeout))
