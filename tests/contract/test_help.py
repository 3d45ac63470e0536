"""`git wt --help` (git asks `man git-wt`), `git wt help COMMAND` and the shipped manual pages."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import git_wt

from worktree_tools.cli import help as help_mod


def test_manual_pages_are_current() -> None:
    assert help_mod.main([]) == 0, "run: python -m worktree_tools.cli.help --write"


def test_git_wt_dash_dash_help_opens_the_manual(repo: Path) -> None:
    env = {**os.environ, "MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "100"}
    proc = subprocess.run(
        ["git", "wt", "--help"], cwd=repo, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "No manual entry" not in proc.stderr
    assert "git wt gc" in proc.stdout and "Usage: git wt" in proc.stdout


def test_help_command_shows_a_subcommand_and_refuses_unknown(repo: Path) -> None:
    proc = git_wt(repo, "help", "hooks", "install")
    assert proc.returncode == 0 and "Usage: git wt hooks install" in proc.stdout
    bad = git_wt(repo, "help", "nope")
    assert bad.returncode == 2 and "git wt help" in bad.stderr
