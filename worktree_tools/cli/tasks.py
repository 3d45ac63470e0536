"""`git wt task add|list|show|block|unblock|edit` (the claim commands: cli/task_claims.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from worktree_tools.cli._common import Number
from worktree_tools.cli.task_claims import CLAIM_COMMANDS
from worktree_tools.cli.task_common import board_command
from worktree_tools.cli.task_run import PREFIX, Run, handoff_text

PRIORITY = Number(int, lo=0, hi=9, unit="0, the most urgent, to 9")


@click.group("task")
def task_group() -> None:
    """A task board on a branch of its own: claims by compare-and-swap (docs/tasks.md)."""


@task_group.command("add")
@click.argument("title")
@click.option("--id", "task_id", help="Task id (default: T1, T2, ...).")
@click.option("--priority", type=PRIORITY, default=2, show_default=True,
              help="0 is the most urgent.")  # fmt: skip
@click.option("--depends-on", "depends_on", multiple=True, help="A task to finish first.")
@click.option("--body", help="Free text below the front matter.")
@click.option("--next-action", help="The first concrete step.")
@board_command("add")
def add_cmd(
    run: Run,
    title: str,
    task_id: str | None,
    priority: int,
    depends_on: tuple[str, ...],
    body: str | None,
    next_action: str | None,
) -> tuple[Any, str]:
    """Add a task to the board."""
    from worktree_tools.tasks.edits import NewTask, add

    spec = NewTask(title, task_id, priority, depends_on, body or "", next_action)
    result = add(run.ctx, [spec])
    new = result.data["tasks"][0]
    result.data["task_id"] = new
    return result, new


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
@board_command("list", writes=False)
def list_cmd(run: Run, states: tuple[str, ...], ready: bool, mine: bool) -> tuple[Any, str]:
    """Every task: state, priority, holder, blocked reasons. Exit 7 if a file is unreadable."""
    from worktree_tools.core.errors import Outcome
    from worktree_tools.tasks.engine import Result, read

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
    data = {"tasks": views, "counts": board.counts(), "errors": errors, "board": board.snap.tip}
    lines = [_row(v) for v in views] or ["no tasks"]
    for err in errors:
        lines.append(f"unreadable: {err['path']}: {err['error']} (fix: {err['fix']})")
    return Result(outcome, data), "\n".join(lines)


@task_group.command("show")
@click.argument("task_id")
@board_command("show", writes=False)
def show_cmd(run: Run, task_id: str) -> tuple[Any, str]:
    """One task: its handoff first, then its fields and text."""
    from worktree_tools.core.errors import Outcome
    from worktree_tools.tasks.engine import Result, read

    board = read(run.ctx)
    view = board.view(board.get(task_id))
    lines = handoff_text(view["handoff"])
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
    return Result(Outcome.OK, data), "\n".join(lines)


@task_group.command("block")
@click.argument("task_id")
@click.option("--on", "on", required=True, help="`human`, or the id of the task it waits for.")
@click.option("--reason", help="What is needed (required with --on human).")
@board_command("block")
def block_cmd(run: Run, task_id: str, on: str, reason: str | None) -> tuple[Any, str]:
    """Put TASK_ID out of `next`'s reach until unblocked (or until task --on is done)."""
    from worktree_tools.tasks.edits import block

    result = block(run.ctx, task_id, on, reason)
    result.data.setdefault("task_id", task_id)
    return result, f"{task_id}: blocked on {on}"


@task_group.command("unblock")
@click.argument("task_id")
@board_command("unblock")
def unblock_cmd(run: Run, task_id: str) -> tuple[Any, str]:
    """Return a blocked TASK_ID to the open tasks."""
    from worktree_tools.tasks.edits import unblock

    result = unblock(run.ctx, task_id)
    result.data.setdefault("task_id", task_id)
    return result, f"{task_id}: {result.outcome.value}"


@task_group.command("edit")
@click.argument("task_id")
@click.option("--title")
@click.option("--priority", type=PRIORITY)
@click.option("--depends-on", "depends_on", multiple=True, help="Replace the dependencies.")
@click.option("--no-depends", is_flag=True, help="Remove every dependency.")
@click.option("--body", help="Replace the free text.")
@click.option("--next-action", help="Set the next action ('' clears it).")
@click.option("--cancel", is_flag=True, help="Cancel the task.")
@click.option("--reopen", is_flag=True, help="Reopen a done or cancelled task.")
@click.option("--file", "file_", type=click.Path(dir_okay=False, path_type=Path),
              help="Replace the whole file with this one (validated).")  # fmt: skip
@board_command("edit")
def edit_cmd(
    run: Run,
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
) -> tuple[Any, str]:
    """Change TASK_ID: by options, by --file, or (with neither) in $GIT_EDITOR. Also the way
    to repair a task file that was edited into nonsense."""
    from worktree_tools.core.errors import InvalidInput
    from worktree_tools.tasks.edits import EditRequest, edit

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

            return Result(Outcome.UNCHANGED, {"task_id": task_id}), f"{task_id}: unchanged"
    req = EditRequest(title, priority, deps, body, next_action, cancel, reopen, text, base)
    result = edit(run.ctx, task_id, req)
    result.data.setdefault("task_id", task_id)
    return result, f"{task_id}: {result.outcome.value}"


def _in_editor(run: Run, task_id: str) -> tuple[str | None, str | None]:
    """Open the task file in git's editor; (new text, the blob it started from), or
    (None, None) when the file came back unchanged."""
    from worktree_tools.core.errors import InvalidInput
    from worktree_tools.tasks.model import check_id

    check_id(task_id)
    snap = run.store.read()
    entry = snap.files.get(f"{task_id}.md")
    if entry is None:
        raise InvalidInput(f"no task {task_id!r} on the board", fix="git wt task list")
    import subprocess
    import tempfile

    from worktree_tools.tasks.objects import cat_blob

    before = cat_blob(run.wt, entry.oid) or b""
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


for _command in CLAIM_COMMANDS:
    task_group.add_command(_command)

COMMANDS = [task_group]
