"""`git wt task next|claim|heartbeat|release|done`: the claim commands."""

from __future__ import annotations

from typing import Any

import click

from worktree_tools.cli._common import TOKEN
from worktree_tools.cli.task_common import board_command, owner_opts
from worktree_tools.cli.task_run import Run, claim_body, next_body

TOKEN_OPTION = click.option(
    "--token", type=TOKEN, help="Refuse (exit 6) unless the claim still has this token."
)


@click.command("next")
@owner_opts(alloc=True)
@board_command("next", holder=True)
def next_cmd(run: Run, owner_pid: int | None, ttl: float | None, alloc: bool) -> tuple[Any, str]:
    """Claim the most urgent ready task (or return the one I hold). Its handoff comes first."""
    return next_body(run, owner_pid, ttl, alloc)


@click.command("claim")
@click.argument("task_id")
@owner_opts(alloc=True)
@board_command("claim", holder=True)
def claim_cmd(
    run: Run, task_id: str, owner_pid: int | None, ttl: float | None, alloc: bool
) -> tuple[Any, str]:
    """Claim TASK_ID. Exit 6 (rejected) naming the holder when someone else holds it."""
    return claim_body(run, task_id, owner_pid, ttl, alloc)


@click.command("heartbeat")
@click.argument("task_id")
@TOKEN_OPTION
@owner_opts()
@board_command("heartbeat", holder=True)
def heartbeat_cmd(
    run: Run, task_id: str, token: int | None, owner_pid: int | None, ttl: float | None
) -> tuple[Any, str]:
    """Renew my claim on TASK_ID (moves refs/wt/claims/ID; adds no commit)."""
    from worktree_tools.tasks.claiming import heartbeat

    owner = run.owner(owner_pid) if owner_pid is not None else None
    result = heartbeat(run.ctx, task_id, owner, token, ttl)
    claim = result.data["task"]["claim"]
    return result, f"{task_id}: renewed for {claim['ttl']:g}s, token {result.data['token']}"


@click.command("release")
@click.argument("task_id")
@TOKEN_OPTION
@click.option("--note", help="What remains to be done.")
@click.option("--next", "next_step", help="The concrete next step.")
@click.option("--blocker", "blockers", multiple=True, help="What blocks (repeatable).")
@click.option("--assume", "assumptions", multiple=True, help="An assumption made (repeatable).")
@board_command("release", holder=True)
def release_cmd(
    run: Run,
    task_id: str,
    token: int | None,
    note: str | None,
    next_step: str | None,
    blockers: tuple[str, ...],
    assumptions: tuple[str, ...],
) -> tuple[Any, str]:
    """Give TASK_ID back (open), leaving a handoff that `next` and `show` print first."""
    from worktree_tools.tasks.claiming import release
    from worktree_tools.tasks.worktree import handoff_for

    handoff = handoff_for(
        run.wt, run.agent, note=note, next_step=next_step, blockers=blockers,
        assumptions=assumptions, lock_timeout=run.lock_timeout,
    )  # fmt: skip
    result = release(run.ctx, task_id, token, handoff)
    return result, f"{task_id}: released with a handoff"


@click.command("done")
@click.argument("task_id")
@click.option("--token", type=TOKEN, required=True, help="The claim's fencing token.")
@board_command("done", holder=True)
def done_cmd(run: Run, task_id: str, token: int) -> tuple[Any, str]:
    """Mark TASK_ID done. Exit 6 when TOKEN is not the claim's current token."""
    from worktree_tools.tasks.claiming import done

    result = done(run.ctx, task_id, token)
    freed = result.data.get("unblocked") or []
    return result, f"{task_id}: done" + (f"; unblocked {', '.join(freed)}" if freed else "")


CLAIM_COMMANDS = [next_cmd, claim_cmd, heartbeat_cmd, release_cmd, done_cmd]
