"""The command line: parse, call one core function, render text or JSON, map errors to exits.

click lives in this package and only here (one module per command group). Core modules are
imported inside each command so that `wt-commit` loads only what committing needs.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from worktree_tools.core.errors import WtError, exit_code

SCHEMA_VERSION = 1  # of every JSON object the commands print; see docs/json.md


def envelope(payload: dict[str, Any]) -> dict[str, Any]:
    """The contract every JSON object keeps: `schema_version` first, and `exit_code` on every
    object whose outcome is not a success."""
    from worktree_tools.core.errors import exit_code_of

    out: dict[str, Any] = {"schema_version": SCHEMA_VERSION, **payload}
    code = exit_code_of(out.get("outcome"))
    if code and "exit_code" not in out:
        out["exit_code"] = code
    return out


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(envelope(payload), ensure_ascii=False, default=str)


def emit(payload: dict[str, Any], as_json: bool, text: str) -> None:
    if as_json:
        click.echo(dumps(payload))
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
        click.echo(dumps(payload))
    click.echo(f"{command}: {err.outcome.value}: {err.message}", err=True)
    if err.fix:
        click.echo(f"{command}: fix: {err.fix}", err=True)
    return code


def run_guarded(command: str, as_json: bool, body: Callable[[], int]) -> int:
    try:
        return _run(command, as_json, body)
    finally:
        from worktree_tools.core import notices

        for line in notices.drain():
            click.echo(line, err=True)


def _run(command: str, as_json: bool, body: Callable[[], int]) -> int:
    try:
        return body()
    except WtError as err:
        return fail(err, as_json, command)
    except KeyboardInterrupt:
        return fail(WtError("interrupted"), as_json, command)
    except Exception as exc:  # a bug or the environment (disk full...): still one JSON object
        if os.environ.get("WT_DEBUG"):
            raise
        return fail(WtError(f"internal error: {type(exc).__name__}: {exc}"), as_json, command)


def timeout_option(ctx: click.Context, param: click.Parameter, value: float | None) -> float:
    """Callback for every --lock-timeout: the option, else $WT_LOCK_TIMEOUT, else 30 s; a bad
    value is a usage error (exit 2, one JSON object under --json), never a traceback."""
    from worktree_tools.core.errors import InvalidInput
    from worktree_tools.core.locks import lock_timeout

    try:
        return lock_timeout(value)
    except InvalidInput as err:
        raise click.BadParameter(err.message) from None


def main(cmd: click.Command, prog: str) -> None:
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
        from worktree_tools.core.errors import InvalidInput

        rc = fail(InvalidInput(exc.format_message()), as_json, prog)
    except click.Abort:
        rc = 1
    sys.exit(rc if isinstance(rc, int) else 0)
