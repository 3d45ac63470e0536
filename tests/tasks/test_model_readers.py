"""tasks.frontmatter reads task files with str methods instead of `re`: each reader gives the answer
of the pattern it replaced (written here, as it was in the module), on many lines."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from worktree_tools.tasks import frontmatter

BARE = re.compile(r"^[A-Za-z0-9_./@](?:[A-Za-z0-9_./@:+ -]*[A-Za-z0-9_./@:+-])?$")
INT = re.compile(r"^-?[0-9]{1,18}$")
KEY = re.compile(r"^([a-z_][a-z0-9_]*):(?: (.*))?$")

# The characters the patterns tell apart, and some they must refuse.
tricky = st.text(
    alphabet=st.sampled_from(list("aZz_09:+- ./@#'\"\n\r\t\x0b\x85\u2028é١²ſK")) | st.characters(),
    max_size=24,
)


@given(tricky)
@example("id: T1")
@example("id:")
@example("id:\n")
@example("id: x\n")
@example("id: x\ny")
@example("id:x")
@example("Id: x")
@example("_: x")
@example("a1_b: ")
@example("ſ: x")  # U+017F lower-cases to itself but is not ASCII
def test_key_line_matches_the_key_pattern(line: str) -> None:
    match = KEY.match(line)
    want = None if match is None else (match[1], match[2] or "")
    assert frontmatter.key_line(line) == want


@given(tricky)
@example("-")
@example("-0")
@example("1\n")
@example("123456789012345678")
@example("1234567890123456789")
@example("١")
@example("²")
def test_is_int_matches_the_int_pattern(text: str) -> None:
    assert frontmatter.is_int(text) == bool(INT.match(text))


@given(tricky)
@example("a")
@example("a ")
@example("a b")
@example(" a")
@example("a\n")
@example("\n")
@example("a:")
@example("2026-11-29T20:50:24.918255Z")
def test_is_bare_matches_the_bare_pattern(value: str) -> None:
    assert frontmatter.is_bare(value) == bool(BARE.match(value))
