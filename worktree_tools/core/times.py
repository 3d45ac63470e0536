"""The one time format of every file and JSON object: ISO 8601 in UTC with a `Z`, to the
microsecond (`2026-11-29T15:04:05.123456Z`); a number, where one is needed, is epoch seconds
beside it: `X_at` -> `X_epoch` (`expires_at`, `expires_epoch`), any other time key K ->
`K_epoch` (`started`, `started_epoch`). Readers also accept an offset (`+00:00`, as 0.1.0 wrote)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

# keys that hold a time (besides every key ending `_at`)
TIME_KEYS = frozenset({"ts", "created", "heartbeat", "started", "mtime"})


def is_time_key(key: str) -> bool:
    return key in TIME_KEYS or key.endswith("_at")


def iso(epoch: float) -> str:
    """`epoch` seconds as the one time format."""
    stamp = datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="microseconds")
    return stamp.replace("+00:00", "Z")


def now_iso() -> str:
    return iso(time.time())


def parse(text: str) -> float:
    """Epoch seconds of an ISO 8601 time (ValueError when it is not one; naive means UTC)."""
    if not isinstance(text, str):
        raise ValueError(f"not a time: {text!r}")
    when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def normal(text: str | None) -> str | None:
    """A stored time in the one format (None stays None; an unreadable one is shown as stored)."""
    if text is None:
        return None
    try:
        return iso(parse(text))
    except ValueError:
        return text


def opt_iso(epoch: float | None) -> str | None:
    return None if epoch is None else iso(epoch)


def normalized(value: Any) -> Any:
    """`value` (decoded JSON) with every time string under a time key in the one format: what
    0.1.0 wrote (`+00:00`) is shown as this release writes it."""
    if isinstance(value, dict):
        return {
            k: normal(v) if is_time_key(str(k)) and isinstance(v, str) else normalized(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value
