"""core.enums.Word, the lean word class of the hot path, behaves as the `(str, Enum)` it
replaces (Outcome was one): compared side by side with a real Enum of the same words."""

from __future__ import annotations

import copy
import json
import pickle
from enum import Enum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worktree_tools.core.enums import Word, WordEnum
from worktree_tools.core.errors import EXIT_CODES, Outcome, exit_code_of


class Lean(Word):
    RED = "red"
    GREEN = "green"
    CRIMSON = "red"  # an alias: the same member


class Real(str, Enum):
    RED = "red"
    GREEN = "green"
    CRIMSON = "red"


PAIRS = [(Lean.RED, Real.RED), (Lean.GREEN, Real.GREEN), (Lean.CRIMSON, Real.CRIMSON)]


@pytest.mark.parametrize(("lean", "real"), PAIRS)
def test_a_member_shows_and_compares_as_the_enum_member(lean: Lean, real: Real) -> None:
    assert str(lean).replace("Lean", "Real") == str(real)
    assert f"{lean}|{lean:>12}".replace("Lean", "Real") == f"{real}|{real:>12}"
    assert repr(lean).replace("Lean", "Real") == repr(real)
    assert (lean.name, lean.value, type(lean.value)) == (real.name, real.value, type(real.value))
    assert lean == real.value and real == lean.value and hash(lean) == hash(real)
    assert json.dumps({lean: [lean]}) == json.dumps({real: [real]})
    assert isinstance(lean, str) and isinstance(lean, Lean)
    assert Lean(lean.value) is lean and Lean(lean) is lean and Lean[lean.name] is lean
    assert pickle.loads(pickle.dumps(lean)) is lean
    assert copy.copy(lean) is lean and copy.deepcopy(lean) is lean


def test_the_class_iterates_its_members_as_enum_does() -> None:
    assert [m.name for m in Lean] == [m.name for m in Real] == ["RED", "GREEN"]
    assert len(Lean) == len(Real) == 2
    assert list(Lean.__members__) == list(Real.__members__)
    assert Lean("red") is Lean.RED and Lean.__members__["CRIMSON"] is Lean.RED
    assert Lean.RED in Lean


@given(st.one_of(st.text(max_size=8), st.integers(), st.none(), st.lists(st.integers())))
def test_anything_else_is_a_value_error_as_with_enum(value: object) -> None:
    def outcome(cls: type) -> object:
        try:
            return cls(value).value
        except ValueError:
            return ValueError

    assert outcome(Lean) == outcome(Real)
    parsed = [Lean.parse, Outcome.parse]
    for parse in parsed:
        if not isinstance(value, str) or value not in ("red", "green", "ok"):
            with pytest.raises(ValueError):
                parse(value)


def test_a_member_cannot_be_reassigned_nor_a_class_with_members_extended() -> None:
    with pytest.raises(AttributeError):
        Lean.RED = "blue"  # type: ignore[misc]
    with pytest.raises(TypeError):

        class More(Lean):  # type: ignore[misc]
            BLUE = "blue"


def test_outcome_keeps_its_words_and_exit_codes() -> None:
    assert [o.value for o in Outcome][:3] == ["committed", "unchanged", "ok"]
    assert set(EXIT_CODES) == set(Outcome)
    assert EXIT_CODES["conflict"] == 4  # type: ignore[index]  # a key is its word
    assert exit_code_of("hook_failed") == 5 and exit_code_of([1]) == 0
    assert Outcome.parse("lock_timeout") is Outcome.LOCK_TIMEOUT


def test_word_enum_is_still_a_real_enum() -> None:
    class Kind(WordEnum):
        A = "a"

    assert issubclass(Kind, Enum) and Kind.parse("a") is Kind.A


def test_a_member_that_is_not_a_word_is_refused_at_class_creation() -> None:
    with pytest.raises(TypeError, match="members are str"):

        class Bad(Word):
            ONE = 1

    class Methods(Word):
        A = "a"

        def shout(self) -> str:
            return self.upper()

        @property
        def twice(self) -> str:
            return self * 2

    assert [m.name for m in Methods] == ["A"] and Methods.A.shout() == "A"
    assert Methods.A.twice == "aa"
