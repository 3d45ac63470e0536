"""gitcmd.clean_env keeps its filtered copy of the environment while the environment is
unchanged, and core/forkexec its encoding of the last one: neither may ever hand a git process
an environment other than the current one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worktree_tools.core import gitcmd

NAMES = st.sampled_from(["WT_T_A", "WT_T_B", "GIT_DIR", "GIT_INDEX_FILE", "WT_T_C"])
VALUES = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\0"))
STEPS = st.lists(st.tuples(NAMES, st.none() | VALUES), max_size=12)


def expected(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in gitcmd.LOCAL_ENV_VARS}
    env.update(extra or {})
    return env


@settings(max_examples=200, deadline=None)
@given(STEPS)
def test_clean_env_follows_every_change_of_the_environment(
    steps: list[tuple[str, str | None]],
) -> None:
    saved = {k: os.environ.get(k) for k, _ in steps}
    try:
        for name, value in steps:
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
            got = gitcmd.clean_env({"X_EXTRA": "1"})
            assert got == expected({"X_EXTRA": "1"})
            got["WT_T_MUTATED"] = "by the caller"  # a caller's change stays its own
            assert "WT_T_MUTATED" not in gitcmd.clean_env()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.mark.parametrize("value", ["one", "two", "one"])
def test_a_git_child_sees_the_environment_of_its_start(value: str, tmp_path: Path) -> None:
    os.environ["WT_T_SEEN"] = value
    try:
        # git starts the alias through the shell, with the environment it was given
        res = gitcmd.git(
            ["-c", 'alias.env=!printf \'%s/%s\' "$WT_T_SEEN" "$WT_T_X"', "env"],
            cwd=tmp_path,
            env=gitcmd.clean_env({"WT_T_X": value}),
        )
    finally:
        del os.environ["WT_T_SEEN"]
    assert res.out == f"{value}/{value}"
