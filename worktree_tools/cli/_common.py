"""The command line: parse, call one core function, render text or JSON, map errors to exits.

click lives in this package and only here (one module per command group). Core modules are
imported inside each command so that `wt-commit` loads only what committing needs.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from worktree_tools.core.errors import WtError, exit_code
from worktree_tools.core.fields import MAX_INT, MAX_PID, MAX_TTL, MAX_WAIT, bounded


def json_line(payload: Any) -> str:
    """One JSON document that is valid UTF-8 whatever it holds: a file name that is not UTF-8
    (decoded by Python with surrogate escapes) is shown with its bytes escaped as `\\xNN`."""
    return json.dumps(printable(payload), ensure_ascii=False, default=_default)


def printable(value: Any) -> Any:
    """`value` with every string made valid UTF-8 (undecodable bytes escaped as \\xNN)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return value
    if isinstance(value, dict):
        return {printable(str(k)): printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN and infinity are not JSON
    return value


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return printable(str(value))


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
    """The one JSON object of a command, in its envelope, valid UTF-8 (see json_line)."""
    return json_line(envelope(payload))


def emit(payload: dict[str, Any], as_json: bool, text: str) -> None:
    if as_json:
        click.echo(dumps(payload))
    elif text:
        click.echo(printable(text))


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
    click.echo(printable(f"{command}: {err.outcome.value}: {err.message}"), err=True)
    if err.fix:
        click.echo(printable(f"{command}: fix: {err.fix}"), err=True)
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


class Number(click.ParamType):  # type: ignore[type-arg]
    """Every numeric option: a finite number in lo..hi. NaN, infinity, a negative number (unless
    `lo` allows it) and anything over the documented maximum are usage errors (exit 2)."""

    def __init__(
        self,
        kind: type[int] | type[float] = float,
        *,
        lo: float = 0,
        hi: float,
        lo_open: bool = False,
        unit: str = "seconds",
    ) -> None:
        self.kind = kind
        self.lo, self.hi, self.lo_open = lo, hi, lo_open
        self.name = "integer" if kind is int else "number"
        self.unit = unit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, self.kind) and not isinstance(value, bool):
            number: float = value
        else:
            try:
                number = self.kind(str(value).strip())
            except (ValueError, OverflowError):
                self.fail(f"{value!r} is not {'an integer' if self.kind is int else 'a number'}")
        what = f"{param.opts[0] if param and param.opts else 'the value'} ({self.unit})"
        try:
            return bounded(number, what, lo=self.lo, hi=self.hi, lo_open=self.lo_open)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TTL = Number(float, lo=0, lo_open=True, hi=MAX_TTL)
PID = Number(int, lo=0, hi=MAX_PID, unit="a process id, 0 for none")
TOKEN = Number(int, lo=1, hi=MAX_INT, unit="a fencing token")
COUNT = Number(int, lo=0, hi=MAX_INT, unit="a count")
SECONDS = Number(float, lo=0, hi=MAX_WAIT)


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
