"""core.jsonline.dumps writes exactly what json.dumps writes (the event log and the lock holder
records go through it), on many values: every JSON type, str/int/float/dict subclasses, keys
json converts, NaN and infinities, lone surrogates, objects only `default` can write."""

from __future__ import annotations

import json
from collections import OrderedDict
from enum import Enum, IntEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worktree_tools.core.enums import Word
from worktree_tools.core.jsonline import dumps


class Color(str, Enum):
    RED = "red"


class Lean(Word):
    BLUE = "blue"


class Level(IntEnum):
    HIGH = 3


class Other:
    def __str__(self) -> str:
        return "other\u00e9"


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)),
    st.sampled_from([Color.RED, Lean.BLUE, Level.HIGH, Other()]),
)
keys = st.one_of(
    st.text(), st.integers(), st.floats(), st.booleans(), st.none(), st.just(Lean.BLUE)
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
        st.dictionaries(st.text(), inner, max_size=4).map(OrderedDict),
    ),
    max_leaves=20,
)


def outcome(write: Any, value: Any, **options: Any) -> Any:
    try:
        return write(value, **options)
    except (TypeError, ValueError) as exc:
        return type(exc), str(exc)


@settings(max_examples=600)
@given(values, st.booleans())
def test_dumps_writes_what_json_dumps_writes(value: Any, ensure_ascii: bool) -> None:
    for default in (str, None):
        options = {"ensure_ascii": ensure_ascii, "default": default}
        assert outcome(dumps, value, **options) == outcome(json.dumps, value, **options)


def test_the_same_errors_as_json() -> None:
    loop: list[Any] = []
    loop.append(loop)
    assert outcome(dumps, loop) == outcome(json.dumps, loop)
    assert outcome(dumps, {(1, 2): 3}) == outcome(json.dumps, {(1, 2): 3})
    assert outcome(dumps, {1, 2}) == outcome(json.dumps, {1, 2})
    looping: dict[str, Any] = {}
    looping["me"] = [looping]
    with pytest.raises(ValueError, match="Circular"):
        dumps(looping)


def test_an_event_line_as_the_log_wrote_it() -> None:
    event = {"ts": "2026-11-29T15:04:05.000001Z", "action": "commit", "pid": 7, "x": b"\xff"}
    assert dumps(event, ensure_ascii=False, default=str) == json.dumps(
        event, ensure_ascii=False, default=str
    )
