"""`git wt guard hook STATE`: what the reference-transaction shim runs when there is something
to decide (hidden: git runs it, not people)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from worktree_tools.cli._common import PID, run_guarded


@click.group("guard", hidden=True)
def guard_group() -> None:
    """The git-level backstop behind `git wt hooks install` (see docs/agents.md)."""


@guard_group.command("hook")
@click.argument("state")
@click.option("--git-pid", type=PID, help="The git process running the transaction.")
def hook_cmd(state: str, git_pid: int | None) -> int:
    """Decide one reference transaction (stdin: git's `OLD NEW REF` lines)."""

    def body() -> int:
        from worktree_tools.core.repo import discover
        from worktree_tools.guard import policy

        lines = sys.stdin.read().splitlines()
        wt = discover(Path.cwd())
        return policy.run(wt, state, lines, git_pid or os.getppid())

    return run_guarded("wt guard", False, body)
