"""What every command prints: one JSON object or a line of text, and errors mapped to exit codes.

No click here: `wt-commit`'s hot path prints through this module without importing click.
"""

from __future__ import annotations

import os
import sys

from worktree_tools.core.errors import WtError, exit_code

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def echo(text: str, err: bool = False) -> None:
    """One line on stdout (stderr with `err`), as click.echo prints it: flushed, and ANSI
    escape sequences stripped when the stream is not a terminal."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    line = text + "\n"
    if "\033" in line and not stream.isatty():
        import re

        line = re.sub(r"\033\[[;?0-9]*[a-zA-Z]", "", line)
    try:
        stream.write(line)
    except UnicodeEncodeError:  # a stream in a narrow encoding: write UTF-8 bytes
        stream.flush()
        stream.buffer.write(line.encode("utf-8", "replace"))
    stream.flush()


def json_line(payload: Any) -> str:
    """One JSON document that is valid UTF-8 whatever it holds: a file name that is not UTF-8
    (decoded by Python with surrogate escapes) is shown with its bytes escaped as `\\xNN`."""
    from worktree_tools.core import jsonline  # json.dumps's output, without json's `re`

    return jsonline.dumps(printable(payload), ensure_ascii=False, default=_default)


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
    if isinstance(value, float):
        import math  # a float is printed only under --json

        if not math.isfinite(value):
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
        echo(dumps(payload))
    elif text:
        echo(printable(text))


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
        echo(dumps(payload))
    echo(printable(f"{command}: {err.outcome.value}: {err.message}"), err=True)
    if err.fix:
        echo(printable(f"{command}: fix: {err.fix}"), err=True)
    return code


def run_guarded(command: str, as_json: bool, body: Callable[[], int]) -> int:
    try:
        return _run(command, as_json, body)
    finally:
        from worktree_tools.core import notices

        for line in notices.drain():
            echo(line, err=True)


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
