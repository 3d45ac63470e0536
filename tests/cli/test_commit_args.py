"""wt-commit's lean parser (cli/commit_args.parse) and the click command built from the same
OPTIONS read every command line alike: whatever the lean parser accepts, click accepts with the
same values; whatever click refuses, the lean parser hands to click (returns None)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import click
from conftest import WT_COMMIT, git, run_in_fresh_python, write
from hypothesis import given, settings
from hypothesis import strategies as st

from worktree_tools.cli.commit import _build
from worktree_tools.cli.commit_args import OPTIONS, parse
from worktree_tools.core.locks import lock_timeout

TOKENS = [
    *(d for o in OPTIONS for d in o.decls),
    "--",
    "-",
    "",
    "a.txt",
    "dir/b",
    "-nS",
    "-nm",
    "-mmsg",
    "-m=x",
    "--json=1",
    "--hooks=auto",
    "--hooks=bad",
    "auto",
    "in-place",
    "--lock-timeout=2.5",
    "5",
    "-1",
    "nan",
    " 7 ",
    "1e400",
    "--retries=3",
    "3.5",
    "-h",
    "--help",
    "--mess",
    "-x",
    "-Fm",
    "NAME:1",
]


COMMAND = _build()  # a command of its own: parsing must not touch the one the manual renders


def click_values(argv: list[str]) -> dict[str, Any] | None:
    """The values click passes to the command, or None when it refuses or shows help."""
    try:
        ctx = COMMAND.make_context("wt-commit", list(argv), resilient_parsing=False)
    except (click.ClickException, click.exceptions.Exit):
        return None
    return dict(ctx.params)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=7))
def test_lean_parser_agrees_with_click(argv: list[str]) -> None:
    lean = parse(argv)
    if lean is None:
        return  # handed to click: its message, its exit code
    lean["lock_timeout"] = lock_timeout(lean["lock_timeout"])  # as wt_commit_main does
    expected = click_values(argv)
    assert expected is not None, f"lean parser accepted what click refuses: {argv}"
    assert lean == expected, argv


def test_refusals_and_help_go_to_click() -> None:
    for argv in (["-h"], ["--help"], ["-a", "x"], ["--all"], ["-x"], ["--hooks", "bad"],
                 ["--lock-timeout", "nan"], ["-m"], ["--json=1"], ["--retries", "-1"]):  # fmt: skip
        assert parse(argv) is None, argv
        assert click_values(argv) is None, argv


def test_wt_commit_refusals_exit_2_with_json(repo: Path) -> None:
    """Through the console script: usage errors are click's, exit 2, one JSON object."""
    write(repo, "a.txt", "x\n")
    for argv in (["--json", "-x", "a.txt"], ["--json", "-a"], ["--json", "--hooks", "no", "a.txt"]):
        proc = subprocess.run([WT_COMMIT, *argv], cwd=repo, capture_output=True, text=True)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert '"outcome": "invalid"' in proc.stdout
    assert git(repo, "status", "--porcelain") != ""


# Not imported by a plain commit (no hook installed): each costs every commit milliseconds of
# start-up (shutil loads zlib, bz2 and lzma; the hook modules their own imports).
NOT_ON_THE_HOT_PATH = (
    "click",
    "filelock",
    "pygit2",
    "psutil",
    "shutil",
    "worktree_tools.hooks.run",
    "worktree_tools.hooks.stage",
)


def test_hot_path_imports_no_click_nor_filelock(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    argv = ["wt-commit", "-nm", "x", "--json", "--lock-timeout=5", "--", "a.txt"]
    report = f"sorted(m for m in {NOT_ON_THE_HOT_PATH!r} if m in sys.modules)"
    proc = run_in_fresh_python(repo, "wt_commit_main", [argv], report)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
    assert git(repo, "log", "-1", "--format=%s").strip() == "x"
