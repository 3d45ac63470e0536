"""`git wt task next|claim|heartbeat|release|done`: the claim commands."""

from __future__ import annotations

import click

from worktree_tools.cli._common import TOKEN, run_guarded
from worktree_tools.cli.task_common import Run, alloc_worktree, claim_text, opts, out, owner_opts


@click.command("next")
@owner_opts
@click.option("--alloc", is_flag=True, help="Also allocate my worktree (branch task/ID).")
@opts(holder=True)
def next_cmd(
    owner_pid: int | None,
    ttl: float | None,
    alloc: bool,
    agent: str | None,
    remote: str | None,
    lock_timeout: float,
    as_json: bool,
) -> int:
    """Claim the most urgent ready task (or return the one I hold). Its handoff comes first."""

    def body() -> int:
        from worktree_tools.tasks.claiming import next_task

        run = Run(agent, remote, lock_timeout, holder=True)
        result = next_task(run.ctx, run.owner(owner_pid), run.ttl(ttl))
        alloc_worktree(run, result, alloc)
        return out(run, result, as_json, claim_text(result.data))

    return run_guarded("git wt task next", as_json, body)


@click.command("claim")
@click.argument("task_id")
@owner_opts
@click.option("--alloc", is_flag=True, help="Also allocate my worktree (branch task/ID).")
@opts(holder=True)
def claim_cmd(
    task_id: str,
    owner_pid: int | None,
    ttl: float | None,
    alloc: bool,
    agent: str | None,
    remote: str | None,
    lock_timeout: float,
    as_json: bool,
) -> int:
    """Claim TASK_ID. Exit 6 (rejected) naming the holder when someone else holds it."""

    def body() -> int:
        from worktree_tools.tasks.claiming import claim

        run = Run(agent, remote, lock_timeout, holder=True)
        result = claim(run.ctx, task_id, run.owner(owner_pid), run.ttl(ttl))
        alloc_worktree(run, result, alloc)
        return out(run, result, as_json, claim_text(result.data))

    return run_guarded("git wt task claim", as_json, body)


@click.command("heartbeat")
@click.argument("task_id")
@click.option("--token", type=TOKEN, help="Refuse (exit 6) unless the claim still has this token.")
@owner_opts
@opts(holder=True)
def heartbeat_cmd(
    task_id: str,
    token: int | None,
    owner_pid: int | None,
    ttl: float | None,
    agent: str | None,
    remote: str | None,
    lock_timeout: float,
    as_json: bool,
) -> int:
    """Renew my claim on TASK_ID (moves refs/wt/claims/ID; adds no commit)."""

    def body() -> int:
        from worktree_tools.tasks.claiming import heartbeat

        run = Run(agent, remote, lock_timeout, holder=True)
        owner = run.owner(owner_pid) if owner_pid is not None else None
        result = heartbeat(run.ctx, task_id, owner, token, ttl)
        claim = result.data["task"]["claim"]
        text = f"{task_id}: renewed for {claim['ttl']:g}s, token {result.data['token']}"
        return out(run, result, as_json, text)

    return run_guarded("git wt task heartbeat", as_json, body)


@click.command("release")
@click.argument("task_id")
@click.option("--token", type=TOKEN, help="Refuse (exit 6) unless the claim still has this token.")
@click.option("--note", help="What remains to be done.")
@click.option("--next", "next_step", help="The concrete next step.")
@click.option("--blocker", "blockers", multiple=True, help="What blocks (repeatable).")
@click.option("--assume", "assumptions", multiple=True, help="An assumption made (repeatable).")
@opts(holder=True)
def release_cmd(
    task_id: str,
    token: int | None,
    note: str | None,
    next_step: str | None,
    blockers: tuple[str, ...],
    assumptions: tuple[str, ...],
    agent: str | None,
    remote: str | None,
    lock_timeout: float,
    as_json: bool,
) -> int:
    """Give TASK_ID back (open), leaving a handoff that `next` and `show` print first."""

    def body() -> int:
        from worktree_tools.tasks.claiming import release
        from worktree_tools.tasks.worktree import handoff_for

        run = Run(agent, remote, lock_timeout, holder=True)
        handoff = handoff_for(
            run.wt, run.agent, note=note, next_step=next_step, blockers=blockers,
            assumptions=assumptions, lock_timeout=lock_timeout,
        )  # fmt: skip
        result = release(run.ctx, task_id, token, handoff)
        return out(run, result, as_json, f"{task_id}: released with a handoff")

    return run_guarded("git wt task release", as_json, body)


@click.command("done")
@click.argument("task_id")
@click.option("--token", type=TOKEN, required=True, help="The claim's fencing token.")
@opts(holder=True)
def done_cmd(
    task_id: str,
    token: int,
    agent: str | None,
    remote: str | None,
    lock_timeout: float,
    as_json: bool,
) -> int:
    """Mark TASK_ID done. Exit 6 when TOKEN is not the claim's current token."""

    def body() -> int:
        from worktree_tools.tasks.claiming import done

        run = Run(agent, remote, lock_timeout, holder=True)
        result = done(run.ctx, task_id, token)
        freed = result.data.get("unblocked") or []
        text = f"{task_id}: done" + (f"; unblocked {', '.join(freed)}" if freed else "")
        return out(run, result, as_json, text)

    return run_guarded("git wt task done", as_json, body)


CLAIM_COMMANDS = [next_cmd, claim_cmd, heartbeat_cmd, release_cmd, done_cmd]
