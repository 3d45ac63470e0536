"""`git wt task add|list|show|next|claim|heartbeat|release|done|block|unblock|edit`."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from worktree_tools.cli._common import emit, run_guarded, timeout_option

PREFIX = "wt:"


def _opts(*, holder: bool = False, writes: bool = True) -> Callable[[Any], Any]:
    def wrap(f: Any) -> Any:
        f = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(f)
        f = click.option(
            "--remote",
            help="Use the board on this remote (name or URL), shared by every machine "
            "(default: git config wt.task.remote; none: this repository's board).",
        )(f)
        if writes:
            f = click.option(
                "--lock-timeout",
                type=float,
                default=None,
                callback=timeout_option,
                show_default="30, or $WT_LOCK_TIMEOUT",
                help="Seconds to keep retrying while other agents change the board.",
            )(f)
        help_ = "Acting agent (default: $WT_AGENT, the worktree's owner"
        help_ += ")." if holder else ", user@host)."
        return click.option("--agent", help=help_)(f)

    return wrap


def _owner_opts(f: Any) -> Any:
    f = click.option(
        "--ttl", type=float, help="Claim lease in seconds (default: wt.task.ttl or 1800)."
    )(f)
    return click.option(
        "--owner-pid", type=int, help="Owner process (default: the calling agent; 0: none)."
    )(f)


class _Run:
    """What every command resolves once: the worktree, the agent, the board store."""

    def __init__(
        self, agent: str | None, remote: str | None, lock_timeout: float, *, holder: bool
    ) -> None:
        from worktree_tools.core import agent as agent_mod
        from worktree_tools.core.errors import InvalidInput
        from worktree_tools.core.repo import discover
        from worktree_tools.tasks.engine import Ctx
        from worktree_tools.tasks.store import open_store

        self.wt = discover(Path.cwd())
        name, source = agent_mod.resolve(agent, self.wt.gitdir)
        if holder and source == "fallback":
            raise InvalidInput(
                "a claim needs a named agent, not the user@host fallback every process here shares",
                fix="pass --agent NAME or set WT_AGENT",
            )
        self.agent = name
        self.lock_timeout = lock_timeout
        self.store = open_store(self.wt, name, remote=remote)
        import time

        self.ctx = Ctx(self.store, name, time.monotonic() + lock_timeout)

    def ttl(self, given: float | None) -> float:
        from worktree_tools.core.errors import InvalidInput
        from worktree_tools.tasks.claims import DEFAULT_TTL
        from worktree_tools.tasks.store import settings

        if given is not None:
            return given
        raw = settings(self.wt).get("wt.task.ttl")
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


def _out(run: _Run | None, result: Any, as_json: bool, text: str) -> int:
    from worktree_tools.core.errors import exit_code

    payload = {
        "outcome": result.outcome.value,
        "agent": run.agent if run else None,
        "where": run.store.where if run else None,
        **result.data,
    }
    emit(payload, as_json, text)
    return exit_code(result.outcome)


def _handoff_text(handoff: dict[str, Any] | None) -> list[str]:
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


def _claim_text(data: dict[str, Any]) -> str:
    if data.get("task") is None:
        counts = data.get("counts") or {}
        return (
            f"no task ready ({counts.get('open', 0)} open, {counts.get('claimed', 0)} claimed, "
            f"{counts.get('blocked', 0)} blocked)"
        )
    task = data["task"]
    lines = _handoff_text(data.get("handoff"))
    head = f"{task['id']}: {data['action']} by {task['assigned_to']}, token {data['token']}"
    if data.get("took_over_from"):
        head += f" (took over from {data['took_over_from']})"
    lines.insert(0, head + f" - {task['title']}")
    if data.get("worktree"):
        lines.append(f"worktree: {data['worktree']} (branch {data.get('branch')})")
    return "\n".join(lines)


@click.group("task")
def task_group() -> None:
    """A task board on a branch of its own: claims by compare-and-swap (docs/tasks.md)."""


@task_group.command("add")
@click.argument("title")
@click.option("--id", "task_id", help="Task id (default: T1, T2, ...).")
@click.option("--priority", type=click.IntRange(0, 9), default=2, show_default=True,
              help="0 is the most urgent.")  # fmt: skip
@click.option("--depends-on", "depends_on", multiple=True, help="A task to finish first.")
@click.option("--body", help="Free text below the front matter.")
@click.option("--next-action", help="The first concrete step.")
@_opts()
def add_cmd(
    title: str,
    task_id: str | None,
    priority: int,
    depends_on: tuple[str, ...],
    body: str | None,
    next_action: str | None,
    agent: str | None,
    remote: str | None,
    lock_timeout: float,
    as_json: bool,
) -> int:
    """Add a task to the board."""

    def body_() -> int:
        from worktree_tools.tasks.edits import NewTask, add

        run = _Run(agent, remote, lock_timeout, holder=False)
        spec = NewTask(title, task_id, priority, depends_on, body or "", next_action)
        result = add(run.ctx, [spec])
        new = result.data["tasks"][0]
        result.data["task_id"] = new
        return _out(run, result, as_json, new)

    return run_guarded("git wt task add", as_json, body_)


def _row(t: dict[str, Any]) -> str:
    extra = ""
    if t["state"] == "blocked":
        extra = f"  [blocked on {t['blocked_on']}: {t['block_reason'] or '-'}]"
    elif t["waiting_on"] and t["state"] == "open":
        extra = f"  [waiting on {', '.join(t['waiting_on'])}]"
    elif t["state"] == "claimed" and t["lease"] != "active":
        extra = f"  [{t['lease']}: {t['lease_detail']}]"
    who = t["assigned_to"] or "-"
    return f"{t['id']:<10} {t['state']:<9} P{t['priority']}  {who:<14} {t['title']}{extra}"


@task_group.command("list")
@click.option("--state", "states", multiple=True,
              type=click.Choice(["open", "claimed", "blocked", "done", "cancelled"]))  # fmt: skip
@click.option("--ready", is_flag=True, help="Only what `next` could take now, in its order.")
@click.option("--mine", is_flag=True, help="Only tasks the acting agent holds.")
@_opts(writes=False)
def list_cmd(
    states: tuple[str, ...],
    ready: bool,
    mine: bool,
    agent: str | None,
    remote: str | None,
    as_json: bool,
) -> int:
    """Every task: state, priority, holder, blocked reasons. Exit 7 if a file is unreadable."""

    def body() -> int:
        from worktree_tools.core.errors import Outcome
        from worktree_tools.tasks.engine import Result, read

        run = _Run(agent, remote, 30.0, holder=False)
        board = read(run.ctx)
        tasks = (
            board.candidates()
            if ready
            else sorted(board.tasks.values(), key=lambda t: (t.priority, t.created, t.id))
        )
        if states:
            tasks = [t for t in tasks if t.state.value in states]
        if mine:
            tasks = [t for t in tasks if t.assigned_to == run.agent]
        views = [board.view(t) for t in tasks]
        errors = board.errors()
        outcome = Outcome.ATTENTION if errors else Outcome.OK
        data = {"tasks": views, "counts": board.counts(), "errors": errors,
                "board": board.snap.tip}  # fmt: skip
        lines = [_row(v) for v in views] or ["no tasks"]
        for err in errors:
            lines.append(f"unreadable: {err['path']}: {err['error']} (fix: {err['fix']})")
        return _out(run, Result(outcome, data), as_json, "\n".join(lines))

    return run_guarded("git wt task list", as_json, body)


@task_group.command("show")
@click.argument("task_id")
@_opts(writes=False)
def show_cmd(task_id: str, agent: str | None, remote: str | None, as_json: bool) -> int:
    """One task: its handoff first, then its fields and text."""

    def body() -> int:
        from worktree_tools.core.errors import Outcome
        from worktree_tools.tasks.engine import Result, read

        run = _Run(agent, remote, 30.0, holder=False)
        board = read(run.ctx)
        view = board.view(board.get(task_id))
        lines = _handoff_text(view["handoff"])
        lines += [f"{view['id']}: {view['title']}", f"state: {view['state']}"]
        for key in (
            "priority",
            "assigned_to",
            "token",
            "lease",
            "depends_on",
            "waiting_on",
            "blocked_on",
            "block_reason",
            "next_action",
            "created",
            "updated",
        ):
            if view.get(key) not in (None, [], ""):
                lines.append(f"{key}: {view[key]}")  # fmt: skip
        if view["body"]:
            lines += ["", view["body"]]
        data = {"task_id": view["id"], "handoff": view["handoff"], "task": view}
        return _out(run, Result(Outcome.OK, data), as_json, "\n".join(lines))

    return run_guarded("git wt task show", as_json, body)


def _alloc(run: _Run, result: Any, alloc: bool) -> None:
    if not alloc or result.data.get("task_id") is None:
        return
    from worktree_tools.tasks.worktree import alloc_for

    result.data.update(alloc_for(run.wt, run.agent, result.data["task_id"], run.lock_timeout))


@task_group.command("next")
@_owner_opts
@click.option("--alloc", is_flag=True, help="Also allocate my worktree (branch task/ID).")
@_opts(holder=True)
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

        run = _Run(agent, remote, lock_timeout, holder=True)
        result = next_task(run.ctx, run.owner(owner_pid), run.ttl(ttl))
        _alloc(run, result, alloc)
        return _out(run, result, as_json, _claim_text(result.data))

    return run_guarded("git wt task next", as_json, body)


@task_group.command("claim")
@click.argument("task_id")
@_owner_opts
@click.option("--alloc", is_flag=True, help="Also allocate my worktree (branch task/ID).")
@_opts(holder=True)
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

        run = _Run(agent, remote, lock_timeout, holder=True)
        result = claim(run.ctx, task_id, run.owner(owner_pid), run.ttl(ttl))
        _alloc(run, result, alloc)
        return _out(run, result, as_json, _claim_text(result.data))

    return run_guarded("git wt task claim", as_json, body)


@task_group.command("heartbeat")
@click.argument("task_id")
@click.option("--token", type=int, help="Refuse (exit 6) unless the claim still has this token.")
@_owner_opts
@_opts(holder=True)
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

        run = _Run(agent, remote, lock_timeout, holder=True)
        owner = run.owner(owner_pid) if owner_pid is not None else None
        result = heartbeat(run.ctx, task_id, owner, token, ttl)
        claim = result.data["task"]["claim"]
        text = f"{task_id}: renewed for {claim['ttl']:g}s, token {result.data['token']}"
        return _out(run, result, as_json, text)

    return run_guarded("git wt task heartbeat", as_json, body)


@task_group.command("release")
@click.argument("task_id")
@click.option("--token", type=int, help="Refuse (exit 6) unless the claim still has this token.")
@click.option("--note", help="What remains to be done.")
@click.option("--next", "next_step", help="The concrete next step.")
@click.option("--blocker", "blockers", multiple=True, help="What blocks (repeatable).")
@click.option("--assume", "assumptions", multiple=True, help="An assumption made (repeatable).")
@_opts(holder=True)
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

        run = _Run(agent, remote, lock_timeout, holder=True)
        handoff = handoff_for(
            run.wt, run.agent, note=note, next_step=next_step, blockers=blockers,
            assumptions=assumptions, lock_timeout=lock_timeout,
        )  # fmt: skip
        result = release(run.ctx, task_id, token, handoff)
        return _out(run, result, as_json, f"{task_id}: released with a handoff")

    return run_guarded("git wt task release", as_json, body)


@task_group.command("done")
@click.argument("task_id")
@click.option("--token", type=int, required=True, help="The claim's fencing token.")
@_opts(holder=True)
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

        run = _Run(agent, remote, lock_timeout, holder=True)
        result = done(run.ctx, task_id, token)
        freed = result.data.get("unblocked") or []
        text = f"{task_id}: done" + (f"; unblocked {', '.join(freed)}" if freed else "")
        return _out(run, result, as_json, text)

    return run_guarded("git wt task done", as_json, body)


@task_group.command("block")
@click.argument("task_id")
@click.option("--on", "on", required=True, help="`human`, or the id of the task it waits for.")
@click.option("--reason", help="What is needed (required with --on human).")
@_opts()
def block_cmd(
    task_id: str,
    on: str,
    reason: str | None,
    agent: str | None,
    remote: str | None,
    lock_timeout: float,
    as_json: bool,
) -> int:
    """Put TASK_ID out of `next`'s reach until unblocked (or until task --on is done)."""

    def body() -> int:
        from worktree_tools.tasks.edits import block

        run = _Run(agent, remote, lock_timeout, holder=False)
        result = block(run.ctx, task_id, on, reason)
        result.data.setdefault("task_id", task_id)
        return _out(run, result, as_json, f"{task_id}: blocked on {on}")

    return run_guarded("git wt task block", as_json, body)


@task_group.command("unblock")
@click.argument("task_id")
@_opts()
def unblock_cmd(
    task_id: str, agent: str | None, remote: str | None, lock_timeout: float, as_json: bool
) -> int:
    """Return a blocked TASK_ID to the open tasks."""

    def body() -> int:
        from worktree_tools.tasks.edits import unblock

        run = _Run(agent, remote, lock_timeout, holder=False)
        result = unblock(run.ctx, task_id)
        result.data.setdefault("task_id", task_id)
        return _out(run, result, as_json, f"{task_id}: {result.outcome.value}")

    return run_guarded("git wt task unblock", as_json, body)


@task_group.command("edit")
@click.argument("task_id")
@click.option("--title")
@click.option("--priority", type=click.IntRange(0, 9))
@click.option("--depends-on", "depends_on", multiple=True, help="Replace the dependencies.")
@click.option("--no-depends", is_flag=True, help="Remove every dependency.")
@click.option("--body", help="Replace the free text.")
@click.option("--next-action", help="Set the next action ('' clears it).")
@click.option("--cancel", is_flag=True, help="Cancel the task.")
@click.option("--reopen", is_flag=True, help="Reopen a done or cancelled task.")
@click.option("--file", "file_", type=click.Path(dir_okay=False, path_type=Path),
              help="Replace the whole file with this one (validated).")  # fmt: skip
@_opts()
def edit_cmd(
    task_id: str,
    title: str | None,
    priority: int | None,
    depends_on: tuple[str, ...],
    no_depends: bool,
    body: str | None,
    next_action: str | None,
    cancel: bool,
    reopen: bool,
    file_: Path | None,
    agent: str | None,
    remote: str | None,
    lock_timeout: float,
    as_json: bool,
) -> int:
    """Change TASK_ID: by options, by --file, or (with neither) in $GIT_EDITOR. Also the way
    to repair a task file that was edited into nonsense."""

    def body_() -> int:
        from worktree_tools.core.errors import InvalidInput
        from worktree_tools.tasks.edits import EditRequest, edit

        run = _Run(agent, remote, lock_timeout, holder=False)
        deps = () if no_depends else (depends_on or None)
        fields = (title, priority, deps, body, next_action)
        text = base = None
        if file_ is not None:
            try:
                text = file_.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"cannot read {file_}: {exc}") from None
        elif all(v is None for v in fields) and not (cancel or reopen):
            text, base = _in_editor(run, task_id)
            if text is None:
                from worktree_tools.core.errors import Outcome
                from worktree_tools.tasks.engine import Result

                return _out(run, Result(Outcome.UNCHANGED, {"task_id": task_id}), as_json,
                            f"{task_id}: unchanged")  # fmt: skip
        req = EditRequest(title, priority, deps, body, next_action, cancel, reopen, text, base)
        result = edit(run.ctx, task_id, req)
        result.data.setdefault("task_id", task_id)
        return _out(run, result, as_json, f"{task_id}: {result.outcome.value}")

    return run_guarded("git wt task edit", as_json, body_)


def _in_editor(run: _Run, task_id: str) -> tuple[str | None, str | None]:
    """Open the task file in git's editor; (new text, the blob it started from), or
    (None, None) when the file came back unchanged."""
    from worktree_tools.core.errors import InvalidInput
    from worktree_tools.tasks.model import check_id

    check_id(task_id)
    snap = run.store.read()
    entry = snap.files.get(f"{task_id}.md")
    if entry is None:
        raise InvalidInput(f"no task {task_id!r} on the board", fix="git wt task list")
    from worktree_tools.tasks.store import cat_blobs

    before = cat_blobs(run.wt, [entry.oid]).get(entry.oid, b"")
    editor = run.wt.git(["var", "GIT_EDITOR"]).out.strip()
    fd, name = tempfile.mkstemp(prefix=f"wt-task-{task_id}-", suffix=".md")
    with os.fdopen(fd, "wb") as fh:
        fh.write(before)
    proc = subprocess.run(["sh", "-c", f'{editor} "$@"', editor, name], check=False)
    if proc.returncode != 0:
        raise InvalidInput(
            f"the editor exited with {proc.returncode}; nothing was changed (your text: {name})",
            fix=f"git wt task edit {task_id} --file {name}",
        )
    after = Path(name).read_bytes()
    if after == before:
        os.unlink(name)
        return None, None
    click.echo(f"{PREFIX} your edit is kept in {name} until it is saved", err=True)
    return after.decode("utf-8", "replace"), entry.oid


COMMANDS = [task_group]
