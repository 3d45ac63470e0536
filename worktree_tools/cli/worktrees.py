"""`git wt alloc|list|status|heartbeat|release|show|adopt|gc`: per-agent worktrees (rescue is
in cli/rescue.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from worktree_tools.cli._common import PID, TTL, emit, run_guarded

PREFIX = "wt:"  # stderr lines that say how to undo something


def _json_opt(f: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(f)


def _repo(actor: str | None = None) -> Any:
    from worktree_tools.worktrees.common import open_repo

    return open_repo(Path.cwd(), actor)


def _say(line: str) -> None:
    click.echo(line, err=True)


@click.command("alloc")
@click.argument("agent")
@click.option("--base", help="Commit the new branch starts from (default: the main worktree's).")
@click.option("--branch", help="Branch name (default: wt/AGENT, or wt.branchPrefix + AGENT).")
@click.option(
    "--path",
    "path",
    help="Directory (default: wt.worktreeDir/AGENT, else ../REPO.worktrees/AGENT).",
)
@click.option("--task", help="What the agent is working on (shown by list and handoffs).")
@click.option("--owner-pid", type=PID, help="Owner process (default: the calling agent; 0: none).")
@click.option("--ttl", type=TTL, help="Lease length in seconds (default: wt.leaseTtl or 3600).")
@click.option("--slot", "slots", multiple=True, help="Also take this numbered slot (repeatable).")
@_json_opt
def alloc_cmd(
    agent: str,
    base: str | None,
    branch: str | None,
    path: str | None,
    task: str | None,
    owner_pid: int | None,
    ttl: float | None,
    slots: tuple[str, ...],
    as_json: bool,
) -> int:
    """Create AGENT's worktree (or return its existing one) and print its path. Brings the
    ignored files of .worktreeinclude, takes --slot numbers, runs the approved .wtconfig setup."""

    def body() -> int:
        from worktree_tools.worktrees.alloc import AllocRequest, alloc

        req = AllocRequest(agent, Path.cwd(), base, branch, path, task, owner_pid, ttl, slots)
        result = alloc(_repo(agent), req)
        for warning in result.warnings:
            _say(f"{PREFIX} warning: {warning}")
        for line in result.env.messages() if result.env else []:
            _say(f"{PREFIX} {line}")
        data = result.to_json()
        emit(data, as_json, result.record.path)
        if result.setup_failed:
            click.echo(f"git wt alloc: setup_failed: {data['error']}", err=True)
            return int(data["exit_code"])
        return 0

    return run_guarded("git wt alloc", as_json, body)


def _list_body(agent: str | None, as_json: bool, *, here: bool = False) -> int:
    from worktree_tools.core.agent import check_name, recorded_owner
    from worktree_tools.core.errors import exit_code
    from worktree_tools.worktrees.inspect import rows, table

    repo = _repo()
    if agent is None and here:
        agent = recorded_owner(repo.wt.gitdir)  # inside an agent's worktree: that agent
    if agent is not None:
        check_name(agent)
    items, bad = rows(repo, agent)
    if agent is not None and not items:
        from worktree_tools.worktrees.records import require

        require(repo.state_dir, agent)  # raises: unknown agent
    from worktree_tools.env import view

    extra = view.list_extras(repo, [r.path for r in items if r.path], [r.agent for r in items])
    disk_text = {path: view.disk_text(data) for path, data in extra.disk.items()}
    payload = {
        "outcome": "invalid" if bad else "ok",
        "worktrees": [
            {
                **r.to_json(),
                "slots": extra.slots.get(r.agent or "", {}),
                **view.disk_json(extra.disk.get(r.path)),
            }
            for r in items
        ],
        "errors": [e.message for e in bad],
    }
    emit(payload, as_json, table(items, disk_text))
    for err in bad:
        _say(f"git wt: invalid: {err.message}")
    return exit_code(bad[0].outcome) if bad else 0


@click.command("list")
@_json_opt
def list_cmd(as_json: bool) -> int:
    """One row per worktree: owner, lease, heartbeat age, dirt, commits ahead, handoff."""
    return run_guarded("git wt list", as_json, lambda: _list_body(None, as_json))


@click.command("status")
@click.argument("agent", required=False)
@_json_opt
def status_cmd(agent: str | None, as_json: bool) -> int:
    """Like list, for one agent: AGENT, or the owner of the worktree you are in."""
    return run_guarded("git wt status", as_json, lambda: _list_body(agent, as_json, here=True))


@click.command("heartbeat")
@click.argument("agent")
@click.option("--ttl", type=TTL, help="Also change the lease length (seconds).")
@click.option("--owner-pid", type=PID, help="Also change the owner process.")
@_json_opt
def heartbeat_cmd(agent: str, ttl: float | None, owner_pid: int | None, as_json: bool) -> int:
    """Renew AGENT's lease."""

    def body() -> int:
        from worktree_tools.core.agent import check_name
        from worktree_tools.worktrees.lease import expires_at, heartbeat

        rec, before = heartbeat(_repo(agent), check_name(agent), ttl=ttl, owner_pid=owner_pid)
        text = f"{agent}: lease renewed for {rec.ttl:.0f}s (was {before.value})"
        from worktree_tools.core import times

        end = expires_at(rec)
        payload = {"outcome": "ok", **rec.output(), "lease_before": before.value}
        payload.update(expires_at=times.iso(end), expires_epoch=end)
        emit(payload, as_json, text)
        return 0

    return run_guarded("git wt heartbeat", as_json, body)


@click.command("release")
@click.argument("agent")
@click.option(
    "--state",
    type=click.Choice(["done", "blocked", "handoff"]),
    default="handoff",
    show_default=True,
    help="done: gc may remove it; blocked: waits on a human; handoff: for another agent.",
)
@click.option("--note", help="What remains to be done.")
@click.option("--next", "next_step", help="The concrete next step.")
@click.option("--blocker", "blockers", multiple=True, help="What blocks (repeatable).")
@click.option("--assume", "assumptions", multiple=True, help="An assumption made (repeatable).")
@click.option(
    "--release-task",
    is_flag=True,
    help="Also release the task this worktree was allocated for, with the same handoff.",
)
@_json_opt
def release_cmd(
    agent: str,
    state: str,
    note: str | None,
    next_step: str | None,
    blockers: tuple[str, ...],
    assumptions: tuple[str, ...],
    release_task: bool,
    as_json: bool,
) -> int:
    """Release AGENT's worktree, leaving a handoff record for whoever comes next. If AGENT
    holds the task the worktree was allocated for, offer to release it (--release-task)."""

    def body() -> int:
        from worktree_tools.tasks.worktree import held_task, release_with
        from worktree_tools.worktrees.handoff import ReleaseRequest, release
        from worktree_tools.worktrees.records import RecordState

        req = ReleaseRequest(agent, RecordState(state), note, next_step, blockers, assumptions)
        repo = _repo(agent)
        rec, handoff = release(repo, req)
        task = held_task(repo.wt, agent, rec.task)
        if task is not None and release_task:
            task["released"] = release_with(repo.wt, agent, task, handoff.to_json())
        elif task is not None:
            _say(f"{PREFIX} {agent} still holds task {task['task_id']} (token {task['token']}); "
                 f"release it too with: {task['command']}")  # fmt: skip
        teardown = None
        if req.state is RecordState.DONE:
            from worktree_tools.env.lifecycle import teardown as run_teardown

            teardown = run_teardown(repo, rec)
            if teardown.message():
                _say(f"{PREFIX} {agent}: {teardown.message()}")
        emit(
            {
                "outcome": "ok",
                **rec.output(),
                "handoff": handoff.output(),
                "held_task": task,  # the task queue's claim this worktree held (null: none)
                "teardown": teardown.to_json() if teardown else None,
            },
            as_json,
            f"{agent}: released ({state}); {len(handoff.commits)} commit(s), "
            f"{len(handoff.uncommitted)} uncommitted path(s)",
        )
        return 0

    return run_guarded("git wt release", as_json, body)


@click.command("show")
@click.argument("agent")
@_json_opt
def show_cmd(agent: str, as_json: bool) -> int:
    """Print AGENT's ownership record and handoff."""

    def body() -> int:
        from worktree_tools.env import view
        from worktree_tools.worktrees.handoff import show
        from worktree_tools.worktrees.render import handoff_text

        repo = _repo()
        rec, state, handoff = show(repo, agent)
        held = view.slots_of(repo, rec.agent)
        payload = {
            "outcome": "ok",
            **rec.output(),
            "lease": state.value,
            "handoff": handoff.output() if handoff else None,
            "slots": held,
            "env_file": view.env_file(rec.path),
        }
        text = handoff_text(rec, state, handoff)
        if held:
            text += "\nslots: " + ", ".join(f"{k}={v}" for k, v in sorted(held.items()))
        emit(payload, as_json, text)
        return 0

    return run_guarded("git wt show", as_json, body)


@click.command("adopt")
@click.argument("agent")
@click.option("--as", "new", required=True, help="The agent taking over.")
@click.option("--force", is_flag=True, help="Take over even a live lease (recorded as forced).")
@click.option("--owner-pid", type=PID, help="The new owner process (default: the caller).")
@click.option("--ttl", type=TTL, help="Lease length in seconds (default: the old one).")
@_json_opt
def adopt_cmd(
    agent: str, new: str, force: bool, owner_pid: int | None, ttl: float | None, as_json: bool
) -> int:
    """Take over AGENT's released, expired or dead-owner worktree as NEW; print its handoff."""

    def body() -> int:
        from worktree_tools.worktrees.handoff import adopt
        from worktree_tools.worktrees.lease import owner_alive
        from worktree_tools.worktrees.records import LeaseState
        from worktree_tools.worktrees.render import handoff_text

        done = adopt(_repo(new), agent, new, force=force, owner_pid=owner_pid, ttl=ttl)
        if done.forced:
            _say(
                f"{PREFIX} forcibly took over {agent}'s live worktree {done.record.path} "
                f"(owner pid {done.previous.owner.pid} on {done.previous.owner.host} may still "
                "write there); recorded in the event log as forced"
            )
        elif owner_alive(done.previous.owner):
            _say(
                f"{PREFIX} note: {agent}'s lease had {done.before.value}, but its owner pid "
                f"{done.previous.owner.pid} is still running and may still write there"
            )
        text = handoff_text(done.record, LeaseState.ACTIVE, done.handoff)
        emit(done.to_json(), as_json, text)
        return 0

    return run_guarded("git wt adopt", as_json, body)


@click.command("gc")
@click.option("--dry-run", "-n", is_flag=True, help="Only say what would be done.")
@click.option(
    "--include-unmanaged",
    is_flag=True,
    help="Also collect linked worktrees git wt did not create (unless git-locked).",
)
@_json_opt
def gc_cmd(dry_run: bool, include_unmanaged: bool, as_json: bool) -> int:
    """Remove dead, expired and done worktrees, rescuing their work first."""

    def body() -> int:
        from worktree_tools.core.errors import LockTimeout
        from worktree_tools.worktrees.gc import gc
        from worktree_tools.worktrees.render import gc_text

        result = gc(_repo(), dry_run=dry_run, include_unmanaged=include_unmanaged, say=_say)
        failed = result.failed
        if failed:
            if not as_json:
                click.echo(gc_text(result))
            from worktree_tools.core.errors import WtError

            names = ", ".join(f"{i.agent} ({i.reason})" for i in failed)
            raise WtError(
                f"not removed, nothing changed for: {names}",
                fix="resolve what the message names, then run git wt gc again",
                **result.to_json(),
            )
        busy = result.busy
        if busy:
            if not as_json:
                click.echo(gc_text(result))
            names = ", ".join(f"{i.agent} ({i.reason})" for i in busy)
            raise LockTimeout(
                f"skipped, nothing changed for: {names}",
                fix="retry git wt gc once the commit or process it names has finished",
                **result.to_json(),
            )
        left = [i for i in result.items if i.left_behind]
        if left:
            # removed from its place, but a directory still being written stays beside it
            from worktree_tools.core.errors import Outcome, exit_code

            names = ", ".join(f"{i.agent} ({', '.join(i.left_behind[:3])})" for i in left)
            message = f"left in place because something still writes there: {names}"
            fix = "git wt gc (again, once nothing writes there; git wt doctor lists them)"
            payload = {**result.to_json(), "outcome": Outcome.ATTENTION.value}
            emit({**payload, "error": message, "fix": fix}, as_json, gc_text(result))
            _say(f"git wt gc: attention: {message}")
            return exit_code(Outcome.ATTENTION)
        emit(result.to_json(), as_json, gc_text(result))
        return 0

    return run_guarded("git wt gc", as_json, body)


COMMANDS = [
    alloc_cmd,
    list_cmd,
    status_cmd,
    heartbeat_cmd,
    release_cmd,
    show_cmd,
    adopt_cmd,
    gc_cmd,
]
