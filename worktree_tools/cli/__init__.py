"""Entry points. Each command group lives in its own module of this package; click is
imported only here. Command modules import core code inside their functions, so `wt-commit`
loads only what committing needs (no pygit2, no psutil)."""

from __future__ import annotations

import click

from worktree_tools.cli._common import main


def wt_commit_main() -> None:
    """Console script `wt-commit`."""
    from worktree_tools.cli.commit import commit_cmd

    main(commit_cmd, "wt-commit")


def build_group() -> click.Group:
    from worktree_tools.cli.agent import agent_group
    from worktree_tools.cli.commit import commit_cmd
    from worktree_tools.cli.env import COMMANDS as env_commands
    from worktree_tools.cli.guard import guard_group
    from worktree_tools.cli.help import help_cmd
    from worktree_tools.cli.hooks import doctor_cmd, hooks_group
    from worktree_tools.cli.journal import journal_group
    from worktree_tools.cli.land import land_cmd
    from worktree_tools.cli.log import log_cmd
    from worktree_tools.cli.mcp import mcp_cmd
    from worktree_tools.cli.remote import lease_group, sync_cmd
    from worktree_tools.cli.schema import schema_cmd
    from worktree_tools.cli.tasks import task_group
    from worktree_tools.cli.watch import watch_cmd
    from worktree_tools.cli.worktrees import COMMANDS as worktree_commands

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    def wt_group() -> None:
        """git wt: many agents, one repository, nobody's work lost."""

    wt_group.add_command(commit_cmd)
    wt_group.add_command(log_cmd)
    wt_group.add_command(journal_group)
    wt_group.add_command(hooks_group)
    wt_group.add_command(guard_group)
    wt_group.add_command(doctor_cmd)
    wt_group.add_command(sync_cmd)
    wt_group.add_command(lease_group)
    wt_group.add_command(watch_cmd)
    wt_group.add_command(land_cmd)
    wt_group.add_command(mcp_cmd)
    wt_group.add_command(agent_group)
    wt_group.add_command(schema_cmd)
    wt_group.add_command(help_cmd)
    wt_group.add_command(task_group)
    for command in [*worktree_commands, *env_commands]:
        wt_group.add_command(command)
    return wt_group


def git_wt_main() -> None:
    """Console script `git-wt`, so that `git wt ...` works."""
    main(build_group(), "git wt")
