"""Typed fields of untrusted records (files and refs that agents, crashes and peers write).

Every record kind has one validating classmethod; these are the checks it is made of. Each
raises `FieldError` (a ValueError) naming the field, so a parser can turn any of them into one
"corrupt record" error with its path. JSON's own quirks are refused here: `NaN`, `Infinity`
and `1e400` decode to floats that are not finite, and `true` is an int to Python.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Far beyond any pid, token or count we write, and well inside what float() and C can hold.
MAX_INT = 2**62
MAX_PID = 2**31 - 1  # pid_t; os.kill() refuses anything larger
# The longest lease, for worktrees (`git wt alloc --ttl`, wt.leaseTtl) and named leases alike.
MAX_TTL = 7 * 24 * 3600.0
# The longest wait or period: --lock-timeout ($WT_LOCK_TIMEOUT), --interval, --lock-threshold.
MAX_WAIT = 7 * 24 * 3600.0


class FieldError(ValueError):
    """A field is missing, of the wrong type or out of range."""


def loads(raw: bytes | str) -> Any:
    """JSON from bytes that must be UTF-8; NaN/Infinity literals are refused, not decoded."""
    import json  # a record is read off the plain commit path: json costs start-up ~9 ms

    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FieldError(f"not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise FieldError(f"not JSON ({exc.msg} at char {exc.pos})") from None
    except RecursionError:
        raise FieldError("not JSON (nested too deep)") from None


def _no_constant(name: str) -> Any:
    raise FieldError(f"{name} is not a JSON number")


def obj(value: Any, what: str = "record") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(f"{what} is {_kind(value)}, not an object")
    return value


def _get(data: dict[str, Any], key: str) -> Any:
    if key not in data:
        raise FieldError(f"{key!r} is missing")
    return data[key]


def text(data: dict[str, Any], key: str, *, max_len: int = 4096) -> str:
    value = _get(data, key)
    if not isinstance(value, str):
        raise FieldError(f"{key!r} is {_kind(value)}, not a string")
    if len(value) > max_len:
        raise FieldError(f"{key!r} is longer than {max_len} characters")
    return value


def opt_text(data: dict[str, Any], key: str, *, max_len: int = 4096) -> str | None:
    return None if data.get(key) is None else text(data, key, max_len=max_len)


def string(value: Any) -> str:
    """`value` when it is a string: an item of a list, or a value already taken by its key."""
    if not isinstance(value, str):
        raise FieldError(f"expected a string, got {_kind(value)}")
    return value


def opt_string(value: Any) -> str | None:
    return None if value is None else string(value)


def integer(data: dict[str, Any], key: str, *, lo: int = 0, hi: int = MAX_INT) -> int:
    value = _get(data, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(f"{key!r} is {_kind(value)}, not an integer")
    if not lo <= value <= hi:
        raise FieldError(f"{key!r} is {value}, outside {lo}..{hi}")
    return value


def number(data: dict[str, Any], key: str, *, lo: float = 0.0, hi: float = 1e12) -> float:
    """A finite number (int or float) in lo..hi; epoch seconds fit the default range."""
    value = _get(data, key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldError(f"{key!r} is {_kind(value)}, not a number")
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise FieldError(f"{key!r} is out of range")
    result = float(value)
    if not _finite(result) or not lo <= result <= hi:
        raise FieldError(f"{key!r} is {value!r}, outside {lo:g}..{hi:g}")
    return result


def opt_number(
    data: dict[str, Any], key: str, *, lo: float = 0.0, hi: float = 1e12
) -> float | None:
    return None if data.get(key) is None else number(data, key, lo=lo, hi=hi)


def bounded(value: float, what: str, *, lo: float, hi: float, lo_open: bool = False) -> float:
    """`value` if it is a finite number in lo..hi (above lo when `lo_open`); FieldError saying
    what is allowed otherwise. The one check behind every numeric option and setting."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldError(f"{what} must be a number, not {value!r}")
    lowest = f"more than {lo:g}" if lo_open else f"{lo:g} or more"
    if not _finite(value) or value < lo or (lo_open and value == lo) or value > hi:
        raise FieldError(f"{what} must be {lowest} and at most {hi:g}, not {value!r}")
    return value


def git_bool(value: str) -> bool | None:
    """A configuration value as git reads a boolean (git_parse_maybe_bool): true, yes, on or a
    non-zero integer; false, no, off, empty or zero; None for anything git refuses. A key set
    without a value is true (PendingConfig gives it as "true")."""
    text = value.lower()
    if text in ("true", "yes", "on"):
        return True
    if text in ("false", "no", "off", ""):
        return False
    digits = text[1:] if text[:1] in ("-", "+") else text
    if digits.isdigit() and digits.isascii():
        return int(text) != 0
    return None


def _finite(value: float) -> bool:
    """math.isfinite without the import (a C extension: a dlopen on every commit's start):
    inf - inf and nan - nan are nan, never 0. An int is finite (isfinite would overflow)."""
    return value - value == 0


def flag(data: dict[str, Any], key: str, default: bool = False) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise FieldError(f"{key!r} is {_kind(value)}, not true or false")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and not _finite(value):
        return repr(value)
    return {
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
