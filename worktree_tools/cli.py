"""The command line: parse, call one core function, render text or JSON, map errors to exits.

click lives here and only here. Core modules are imported inside each command so that
`wt-commit` loads only what committing needs (no pygit2, no psutil).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from worktree_tools.errors import Outcome, WtError, exit_code

PREFIX = "wt"


def emit(payload: dict[str, Any], as_json: bool, text: str) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, default=str))
    elif text:
        click.echo(text)


def fail(err: WtError, as_json: bool, command: str) -> int:
    """The one place an error becomes an exit code, a message and a JSON object."""
    code = exit_code(err.outcome)
    if as_json:
        payload: dict[str, Any] = {
            "outcome": err.outcome.value,
            "error": err.message,
            "fix": err.fix,
            "exit_code": code,
        }
        payload.update({k: v for k, v in err.details.items() if k not in payload})
        click.echo(json.dumps(payload, ensure_ascii=False, default=str))
    click.echo(f"{command}: {err.outcome.value}: {err.message}", err=True)
    if err.fix:
        click.echo(f"{command}: fix: {err.fix}", err=True)
    return code


def run_guarded(command: str, as_json: bool, body: Callable[[], int]) -> int:
    try:
        return body()
    except WtError as err:
        return fail(err, as_json, command)
    except KeyboardInterrupt:
        return fail(WtError("interrupted"), as_json, command)
    except Exception as exc:  # a bug or the environment (disk full...): still one JSON object
        err = WtError(f"internal error: {type(exc).__name__}: {exc}")
        if os.environ.get("WT_DEBUG"):
            raise
        return fail(err, as_json, command)


def _main(cmd: click.Command, prog: str) -> None:
    """Run a click command so that usage errors also honour --json and exit 2."""
    argv = sys.argv[1:]
    as_json = "--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv
    try:
        rc = cmd.main(args=argv, prog_name=prog, standalone_mode=False)
    except click.exceptions.Exit as exc:
        rc = exc.exit_code
    except click.ClickException as exc:
        if isinstance(exc, click.UsageError) and exc.ctx is not None and not as_json:
            click.echo(exc.ctx.get_usage(), err=True)
        from worktree_tools.errors import InvalidInput

        rc = fail(InvalidInput(exc.format_message()), as_json, prog)
    except click.Abort:
        rc = 1
    sys.exit(rc if isinstance(rc, int) else 0)


# ---------------------------------------------------------------- commit


def _reject_all(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        raise click.UsageError(
            "wt-commit never commits everything: name the paths (`-- PATH...`); "
            "to commit the whole worktree on purpose use --commit-whole-tree"
        )
    return value


@click.command(
    "commit",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("-m", "--message", "messages", multiple=True, help="Message (repeat for paragraphs).")
@click.option("-F", "--file", "message_file", help="Read the message from FILE ('-': stdin).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--lock-timeout",
    type=float,
    default=lambda: float(os.environ.get("WT_LOCK_TIMEOUT", "30")),
    show_default="30, or $WT_LOCK_TIMEOUT",
    help="Seconds to wait for the locks.",
)
@click.option("--agent", help="Acting agent (default: $WT_AGENT, the worktree's owner, user@host).")
@click.option("-n", "--no-verify", is_flag=True, help="Skip the pre-commit and commit-msg hooks.")
@click.option("-S", "--gpg-sign", "gpg_sign", is_flag=True, help="Sign the commit.")
@click.option("--gpg-key", help="Sign with this key (implies --gpg-sign).")
@click.option("--no-gpg-sign", is_flag=True, help="Do not sign, whatever commit.gpgSign says.")
@click.option(
    "--commit-whole-tree",
    is_flag=True,
    help="Allow a path that names the whole worktree ('.'). Off by default, on purpose.",
)
@click.option("-a", "--all", "all_", is_flag=True, hidden=True, callback=_reject_all, expose_value=False)
@click.argument("paths", nargs=-1, type=click.UNPROCESSED)
def commit_cmd(
    messages: tuple[str, ...],
    message_file: str | None,
    as_json: bool,
    lock_timeout: float,
    agent: str | None,
    no_verify: bool,
    gpg_sign: bool,
    gpg_key: str | None,
    no_gpg_sign: bool,
    commit_whole_tree: bool,
    paths: tuple[str, ...],
) -> int:
    """Commit exactly PATHS from this worktree onto its branch, and nothing else.

    \b
    wt-commit -m "fix parser" -- src/parser.py tests/test_parser.py
    """

    def body() -> int:
        from worktree_tools.commit import CommitRequest, run
        from worktree_tools.errors import InvalidInput

        if lock_timeout < 0:
            raise InvalidInput("--lock-timeout must be zero or more seconds")
        sign: str | None = None
        if no_gpg_sign:
            sign = "no"
        elif gpg_key:
            sign = gpg_key
        elif gpg_sign:
            sign = ""
        req = CommitRequest(
            paths=paths,
            cwd=Path.cwd(),
            messages=messages,
            message_file=message_file,
            agent=agent,
            lock_timeout=lock_timeout,
            no_verify=no_verify,
            whole_tree=commit_whole_tree,
            sign=sign,
        )
        result = run(req)
        if result.outcome is Outcome.COMMITTED:
            text = (
                f"committed {result.commit and result.commit[:12]} on {result.branch}: "
                f"{len(result.paths)} path(s) (lock wait {result.lock_wait_ms:.1f} ms, "
                f"hold {result.lock_hold_ms:.1f} ms)"
            )
        else:
            text = f"unchanged: {', '.join(result.paths)} already committed on {result.branch}"
        for warning in result.warnings:
            click.echo(f"wt-commit: warning: {warning}", err=True)
        emit(result.to_json(), as_json, text)
        return exit_code(result.outcome)

    return run_guarded("wt-commit", as_json, body)


def wt_commit_main() -> None:
    """Console script `wt-commit`."""
    _main(commit_cmd, "wt-commit")


# ---------------------------------------------------------------- git wt


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def wt_group() -> None:
    """git wt: many agents, one repository, nobody's work lost."""


wt_group.add_command(commit_cmd)


@wt_group.command("log")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one event object per line.")
@click.option("-n", "--limit", type=int, default=0, help="Only the last N events.")
@click.option("--agent", help="Only this agent's events.")
@click.option("--action", help="Only this action (commit, stale_lock_removed, ...).")
def log_cmd(as_json: bool, limit: int, agent: str | None, action: str | None) -> int:
    """Show the event log (every mutating action, oldest first)."""

    def body() -> int:
        from worktree_tools import events
        from worktree_tools.repo import discover

        wt = discover(Path.cwd())
        rows = [
            e
            for e in events.read(wt.state_dir)
            if (agent is None or e.get("agent") == agent)
            and (action is None or e.get("action") == action)
        ]
        if limit > 0:
            rows = rows[-limit:]
        for event in rows:
            if as_json:
                click.echo(json.dumps(event, ensure_ascii=False))
            else:
                click.echo(_event_line(event))
        return 0

    return run_guarded("git wt log", as_json, body)


def _event_line(e: dict[str, Any]) -> str:
    if "corrupt" in e:
        return f"(unreadable line: {e['corrupt'][:80]!r})"
    rest = []
    for key in ("branch", "commit", "error", "why", "lock"):
        if e.get(key):
            value = str(e[key])
            rest.append(f"{key}={value[:12] if key == 'commit' else value}")
    if e.get("path_count"):
        rest.append(f"paths={e['path_count']}")
    if "lock_hold_ms" in e:
        rest.append(f"hold={e['lock_hold_ms']}ms")
    return (
        f"{e.get('ts', '?')}  {e.get('agent', '?'):<16} {e.get('action', '?'):<12} "
        f"{e.get('outcome', ''):<12} {' '.join(rest)}"
    )


def git_wt_main() -> None:
    """Console script `git-wt`, so that `git wt ...` works."""
    _main(wt_group, "git wt")
