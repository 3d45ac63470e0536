"""The command line: parse, call one core function, render text or JSON, map errors to exits.

click lives in this package and only here (one module per command group). Core modules are
imported inside each command so that `wt-commit` loads only what committing needs.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from worktree_tools.cli._output import SCHEMA_VERSION as SCHEMA_VERSION
from worktree_tools.cli._output import dumps as dumps
from worktree_tools.cli._output import emit as emit
from worktree_tools.cli._output import envelope as envelope
from worktree_tools.cli._output import fail as fail
from worktree_tools.cli._output import json_line as json_line
from worktree_tools.cli._output import printable as printable
from worktree_tools.cli._output import run_guarded as run_guarded
from worktree_tools.core.fields import MAX_INT, MAX_PID, MAX_TTL, MAX_WAIT, bounded


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
