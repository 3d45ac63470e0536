"""core.times.iso shows a time exactly as datetime did before it stopped importing datetime
(the commit hot path stamps every event with it)."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import example, given, settings
from hypothesis import strategies as st

from worktree_tools.core import times


def by_datetime(epoch: float) -> object:
    try:
        stamp = datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="microseconds")
    except (ValueError, OverflowError, OSError) as exc:
        return type(exc)
    return stamp.replace("+00:00", "Z")


def by_times(epoch: float) -> object:
    try:
        return times.iso(epoch)
    except (ValueError, OverflowError, OSError) as exc:
        return type(exc)


@settings(max_examples=2000)
@given(
    st.one_of(
        st.floats(min_value=-1e11, max_value=3e11),
        st.floats(min_value=1.7e9, max_value=1.9e9),
        st.integers(min_value=-(10**11), max_value=3 * 10**11),
        st.floats(),
        st.integers(min_value=0, max_value=10**6).map(lambda n: 1.7e9 + n / 1e6 + 5e-7),
    )
)
@example(0.5000005)
@example(-0.0000005)
@example(-1e-20)
@example(253402300799.9999995)
@example(-62135596800.0)
def test_iso_is_what_datetime_shows(epoch: float) -> None:
    assert by_times(epoch) == by_datetime(epoch)


def test_a_round_trip_through_parse() -> None:
    assert times.parse(times.iso(1780000000.25)) == 1780000000.25
    assert times.normal("2026-11-29T15:04:05+00:00") == "2026-11-29T15:04:05.000000Z"
