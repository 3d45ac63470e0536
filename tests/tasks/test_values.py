"""tasks.values.Value does what the board's classes used of @dataclass(frozen=True): equality
and hashing over the compared fields, repr, and replace (dataclasses.replace's semantics),
checked against a dataclass twin on many inputs."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worktree_tools.tasks.values import Value


@dataclasses.dataclass(frozen=True)
class Twin:
    a: Any
    b: Any = 0
    c: Any = dataclasses.field(default=None, compare=False)


class Lean(Value):
    __slots__ = ("a", "b", "c")
    NOT_COMPARED = ("c",)

    def __init__(self, a: Any, b: Any = 0, c: Any = None) -> None:
        self.a = a
        self.b = b
        self.c = c


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.floats())
values = st.one_of(
    scalars, st.tuples(scalars, scalars), st.dictionaries(st.text(max_size=3), scalars)
)


def both(a: Any, b: Any, c: Any) -> tuple[Twin, Lean]:
    return Twin(a, b, c), Lean(a, b, c)


def outcome(fn: Any) -> Any:
    try:
        return ("ok", fn())
    except Exception as exc:
        return ("raised", type(exc))


@given(values, values, values, values, values, values)
def test_equality_hash_and_repr_match_a_frozen_dataclass(
    a1: Any, b1: Any, c1: Any, a2: Any, b2: Any, c2: Any
) -> None:
    t1, l1 = both(a1, b1, c1)
    t2, l2 = both(a2, b2, c2)
    assert (t1 == t2) == (l1 == l2)
    assert (t1 != t2) == (l1 != l2)
    assert (t1 == t1) == (l1 == l1)  # nan fields: equal by identity, as tuples compare
    assert outcome(lambda: hash(t1) == hash(t2)) == outcome(lambda: hash(l1) == hash(l2))
    assert repr(l1) == repr(t1).replace("Twin(", "Lean(")
    assert (l1 == t1) is False


@given(values, values, values, st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), values))
def test_replace_matches_dataclasses_replace(
    a: Any, b: Any, c: Any, changes: dict[str, Any]
) -> None:
    twin, lean = both(a, b, c)
    got = outcome(lambda: lean.replace(**changes))
    want = outcome(lambda: dataclasses.replace(twin, **changes))
    assert got[0] == want[0]
    if got[0] == "ok":
        assert repr(got[1]) == repr(want[1]).replace("Twin(", "Lean(")
        assert got[1] is not lean
    else:
        assert got[1] is want[1] is TypeError


def test_replace_keeps_the_class_and_refuses_unknown_fields() -> None:
    lean = Lean(1, 2, 3)
    assert type(lean.replace(b=5)) is Lean and lean.replace(b=5).b == 5 and lean.b == 2
    with pytest.raises(TypeError, match="no field 'd'"):
        lean.replace(d=1)
