"""`dumps`: exactly what `json.dumps(value, ensure_ascii=..., default=...)` returns (default
separators, keys in their order, NaN/Infinity written as json does, a circular reference a
ValueError), without importing `json`: it imports `re`, which costs wt-commit's start-up ~9 ms.
Strings are escaped by `_json`'s own C functions, the ones json itself uses, imported only for a
string that needs escaping (a C extension: a load on every commit's start otherwise); one of
printable ASCII without `"` or `\\` is written as it is, as they would write it. The event log and
the lock holder records write through it; tests/core/test_jsonline.py compares it with json.dumps
on many values.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def dumps(
    value: Any, *, ensure_ascii: bool = True, default: Callable[[Any], Any] | None = None
) -> str:
    parts: list[str] = []
    _encode(value, parts, _quote_ascii if ensure_ascii else _quote, default, set())
    return "".join(parts)


def _plain(text: str) -> bool:
    """Whether json writes `text` between quotes as it is: printable (no control character,
    which json escapes) and no quote or backslash."""
    return text.isprintable() and '"' not in text and "\\" not in text


def _quote_ascii(text: str) -> str:
    if text.isascii() and _plain(text):
        return '"' + text + '"'
    from _json import encode_basestring_ascii

    return encode_basestring_ascii(text)


def _quote(text: str) -> str:
    if _plain(text):
        return '"' + text + '"'
    from _json import encode_basestring

    return encode_basestring(text)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == float("-inf"):
        return "-Infinity"
    return float.__repr__(value)


def _encode(
    value: Any,
    out: list[str],
    quote: Callable[[str], str],
    default: Callable[[Any], Any] | None,
    seen: set[int],
) -> None:
    # The order of json's C encoder: None, True, False, str, int, float, list/tuple, dict, other.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(quote(value))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        key = _enter(value, seen)
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(", ")
            _encode(item, out, quote, default, seen)
        out.append("]")
        seen.discard(key)
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        key = _enter(value, seen)
        out.append("{")
        first = True
        for k, v in value.items():
            if isinstance(k, str):
                name = k
            elif isinstance(k, float):
                name = _float(k)
            elif k is True:
                name = "true"
            elif k is False:
                name = "false"
            elif k is None:
                name = "null"
            elif isinstance(k, int):
                name = int.__repr__(k)
            else:
                raise TypeError(
                    f"keys must be str, int, float, bool or None, not {type(k).__name__}"
                )
            if not first:
                out.append(", ")
            first = False
            out.append(quote(name))
            out.append(": ")
            _encode(v, out, quote, default, seen)
        out.append("}")
        seen.discard(key)
    else:
        if default is None:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        key = _enter(value, seen)
        _encode(default(value), out, quote, default, seen)
        seen.discard(key)


def _enter(value: object, seen: set[int]) -> int:
    key = id(value)
    if key in seen:
        raise ValueError("Circular reference detected")
    seen.add(key)
    return key
