"""The one time format of every file and JSON object: ISO 8601 in UTC with a `Z`, to the
microsecond (`2026-11-29T15:04:05.123456Z`); a number, where one is needed, is epoch seconds
beside it: `X_at` -> `X_epoch` (`expires_at`, `expires_epoch`), any other time key K ->
`K_epoch` (`started`, `started_epoch`). Readers also accept an offset (`+00:00`, as 0.1.0 wrote)."""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# keys that hold a time (besides every key ending `_at`)
TIME_KEYS = frozenset({"ts", "created", "heartbeat", "started", "mtime"})


def is_time_key(key: str) -> bool:
    return key in TIME_KEYS or key.endswith("_at")


# 0001-01-01 and 10000-01-01 in epoch seconds: the years datetime can show.
_FIRST, _END = -62135596800, 253402300800


def iso(epoch: float) -> str:
    """`epoch` seconds as the one time format: what `datetime.fromtimestamp(epoch, UTC)
    .isoformat(timespec="microseconds")` shows, without importing datetime (it costs the
    commit hot path ~2 ms): microseconds rounded half to even, as datetime rounds them."""
    if not _FIRST <= epoch < _END - 1:
        return _iso_by_datetime(epoch)  # datetime's own errors and extremes
    # math.modf, without the import (datetime's own steps: _PyTime_DoubleToDenominator); exact,
    # as x - trunc(x) is for any float; only the sign of a zero `whole` may differ
    whole = float(int(epoch))
    frac = epoch - whole
    micros = round(frac * 1e6)
    if micros >= 1000000:
        whole, micros = whole + 1, micros - 1000000
    elif micros < 0:
        whole, micros = whole - 1, micros + 1000000
    t = time.gmtime(int(whole))
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{micros:06d}Z"
    )


def _iso_by_datetime(epoch: float) -> str:
    from datetime import datetime, timezone

    stamp = datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="microseconds")
    return stamp.replace("+00:00", "Z")


def now_iso() -> str:
    return iso(time.time())


def parse(text: str) -> float:
    """Epoch seconds of an ISO 8601 time (ValueError when it is not one; naive means UTC)."""
    if not isinstance(text, str):
        raise ValueError(f"not a time: {text!r}")
    from datetime import datetime, timezone

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
