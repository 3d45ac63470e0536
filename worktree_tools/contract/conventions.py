"""The conventions every `--json` object keeps beyond its schema (docs/json.md), checked key by
key wherever a key appears, however deep: a time is ISO 8601 UTC with a `Z`; an `*_epoch` is a
number; an absent value is `null`, never `""`."""

from __future__ import annotations

import re
from typing import Any

from worktree_tools.core.times import is_time_key

TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$")


def violations(value: Any, where: str = "$") -> list[str]:
    """Where `value` breaks a convention (an empty list when it keeps them all)."""
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            at = f"{where}.{key}"
            if item == "":
                out.append(f'{at} is "" (absent values are null)')
            elif (
                is_time_key(key)
                and item is not None
                and not (isinstance(item, str) and TIME.match(item))
            ):
                out.append(f"{at} = {item!r} is not an ISO 8601 UTC time with Z")
            elif key.endswith("_epoch") and not (
                item is None or (isinstance(item, (int, float)) and not isinstance(item, bool))
            ):
                out.append(f"{at} = {item!r} is not epoch seconds")
            out += violations(item, at)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += violations(item, f"{where}[{i}]")
    return out
