"""The front matter of a task file, one value at a time: reading a `key: value` line and its
value (null, an integer, a bare or double-quoted string, a flow list, a JSON object), writing a
value back, and the typed field checks Task.parse applies. Split from tasks/model.py (move
only); model.Task is its one user.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# What a bare (unquoted) value may hold: its first character, its last, any between. The
# readers below are str methods with the answers of these patterns (tests/tasks/test_model.py
# checks them against the patterns): `re` costs every `git wt task next` ~6 ms of start-up.
#   bare   ^[A-Za-z0-9_./@](?:[A-Za-z0-9_./@:+ -]*[A-Za-z0-9_./@:+-])?$
#   int    ^-?[0-9]{1,18}$
#   key    ^([a-z_][a-z0-9_]*):(?: (.*))?$
_BARE_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./@")
_BARE_LAST = _BARE_FIRST | frozenset(":+-")
_BARE_INNER = _BARE_LAST | {" "}


def read_value(rest: str, key: str) -> Any:
    if rest in ("", "null", "~"):
        return None
    if rest.startswith(("{", '"')):
        import json  # only a value that needs it: a plain task file has none

        return json.loads(rest)
    if rest.startswith("["):
        if not rest.endswith("]"):
            raise ValueError(f"{key}: a list must end with ']'")
        inner = rest[1:-1].strip()
        if not inner:
            return []
        import json

        try:
            return json.loads(rest)
        except ValueError:
            return [scalar(item.strip(), key) for item in inner.split(",")]
    return scalar(rest, key)


def scalar(text: str, key: str) -> Any:
    if text.startswith('"'):
        import json

        return json.loads(text)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if is_int(text):
        return int(text)
    if not text:
        raise ValueError(f"{key}: empty list item")
    return text


def emit(value: str | None) -> str:
    if value is None:
        return "null"
    if is_bare(value) and value not in ("null", "true", "false", "~"):
        try:
            float(value)  # "7", "0.0", "1e5", "nan" would read back as numbers: quote them
        except ValueError:
            return value
    return json_text(value)


def json_text(value: Any) -> str:
    import json  # only a value that cannot be written bare

    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def dollar(text: str) -> str:
    """`text` as a pattern's `$` sees it: a final newline may stand after the end."""
    return text[:-1] if text.endswith("\n") else text


def key_line(line: str) -> tuple[str, str] | None:
    """(key, the rest after `: `) of a `key: value` line, or None (the key pattern above)."""
    key, colon, after = line.partition(":")
    if not colon or not key.isascii() or not key.isidentifier() or key != key.lower():
        return None
    if "\n" in after:
        after = dollar(after)
        if "\n" in after:
            return None
    if not after:
        return key, ""
    return (key, after[1:]) if after[0] == " " else None


def is_int(text: str) -> bool:
    digits = dollar(text)
    digits = digits[1:] if digits.startswith("-") else digits
    return 1 <= len(digits) <= 18 and digits.isascii() and digits.isdigit()


def is_bare(value: str) -> bool:
    text = dollar(value)
    if not text or text[0] not in _BARE_FIRST:
        return False
    if len(text) > 1 and text[-1] not in _BARE_LAST:
        return False
    return all(c in _BARE_INNER for c in text[1:-1])


def req_str(values: dict[str, Any], key: str) -> str:
    value = values.get(key)
    if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value) == "":
        raise ValueError(f"{key} is missing")
    return str(value)


def opt_str(values: dict[str, Any], key: str) -> str | None:
    value = values.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{key} must be a string")
    return str(value)


def int_field(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{key} must be an integer, not {value!r}")
    return value


def str_list(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise TypeError(f"{key} items must be task ids")
        out.append(str(item))
    return out


def opt_dict(value: Any, key: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError(f"{key} must be a JSON object")
    return value
