"""core.agent checks names with str methods instead of `re` (the commit hot path): the same
answers as the regular expression it replaced, on many strings. One deliberate difference: the
expression's `$` let a name end in a newline ("a\\n"), which no ref or directory can carry."""

from __future__ import annotations

import getpass
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from worktree_tools.core import agent

OLD = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$")


def old_valid(name: str) -> bool:
    return bool(OLD.match(name)) and ".." not in name and not name.endswith((".lock", "."))


names = st.one_of(
    st.text(max_size=70),
    st.text(alphabet="ab_.@-Z9\u00e9\u0130/ ", max_size=70),
    st.text(alphabet="ab.", min_size=60, max_size=68),
)


@settings(max_examples=1500)
@given(names)
@example("a..b")
@example("x.lock")
@example("-a")
@example("a" * 64)
@example("a" * 65)
@example("\u0661")  # a non-ASCII digit: refused as the expression refused it
def test_valid_name_answers_as_the_expression(name: str) -> None:
    expected = old_valid(name) and not name.endswith("\n")
    assert agent.valid_name(name) == expected


def test_a_name_ending_in_a_newline_is_refused() -> None:
    assert old_valid("a\n")  # what the old check let through
    assert not agent.valid_name("a\n")


@given(st.text(max_size=30))
def test_the_fallback_name_replaces_what_the_expression_replaced(text: str) -> None:
    assert agent._safe(text) == re.sub(r"[^A-Za-z0-9_.-]", "_", text)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"LOGNAME": "l"},
        {"USER": "u", "LNAME": "n"},
        {"USERNAME": "w"},
        {"LOGNAME": "", "USER": "u"},
    ],
)
def test_the_login_name_is_what_getpass_answers(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert agent.login_name() == getpass.getuser()
