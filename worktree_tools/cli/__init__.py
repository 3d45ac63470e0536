"""Entry points. Each command group lives in its own module of this package; click is imported
only in this package, never on `wt-commit`'s hot path. Command modules import core code inside
their functions, so `wt-commit` loads only what committing needs (no pygit2, no psutil)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import click


def wt_commit_main() -> None:
    """Console script `wt-commit`. The hot path: a command line the lean parser reads (the
    options of cli/commit_args.OPTIONS, as click reads them) commits without importing click;
    help and anything click would refuse go to the click command, so its messages and exit
    codes are the only ones."""
    import gc

    # One commit is one short process: Python's cycle collector, which runs every 700 container
    # allocations (loading the hot path's modules makes thousands) and finds nothing to free
    # there, is off. Reference counting still frees all but cycles; the exit frees the rest.
    # About 2 ms of CPU per commit (docs/hot-path.md).
    gc.disable()
    from worktree_tools.cli.commit_args import parse
    from worktree_tools.core.errors import InvalidInput
    from worktree_tools.core.locks import lock_timeout

    values = parse(sys.argv[1:])
    if values is not None:
        try:
            values["lock_timeout"] = lock_timeout(values["lock_timeout"])
        except InvalidInput:  # a bad $WT_LOCK_TIMEOUT: click's callback words the error
            values = None
    if values is None:
        from worktree_tools.cli._common import main
        from worktree_tools.cli.commit import commit_cmd
        from worktree_tools.cli.epilogs import attach

        attach(commit_cmd, ("commit",))  # --help: its exit codes (built only if shown)
        main(commit_cmd, "wt-commit")
        return
    from worktree_tools.cli.commit_exec import execute

    sys.exit(execute(values))


def build_group() -> click.Group:
    from worktree_tools.cli.agent import agent_group
    from worktree_tools.cli.commit import commit_cmd
    from worktree_tools.cli.env import COMMANDS as env_commands
    from worktree_tools.cli.epilogs import attach
    from worktree_tools.cli.guard import guard_group
    from worktree_tools.cli.help import help_cmd
    from worktree_tools.cli.hooks import doctor_cmd, hooks_group
    from worktree_tools.cli.journal import journal_group
    from worktree_tools.cli.land import land_cmd
    from worktree_tools.cli.log import log_cmd
    from worktree_tools.cli.mcp import mcp_cmd
    from worktree_tools.cli.remote import lease_group, sync_cmd
    from worktree_tools.cli.rescue import rescue_group
    from worktree_tools.cli.schema import schema_cmd
    from worktree_tools.cli.tasks import task_group
    from worktree_tools.cli.watch import watch_cmd
    from worktree_tools.cli.worktrees import COMMANDS as worktree_commands

    wt_group = _root()
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
    for command in [*worktree_commands, rescue_group, *env_commands]:
        wt_group.add_command(command)
    attach(wt_group)  # every command's --help: columns, states, exit codes (cli/epilogs.py)
    return wt_group


def git_wt_main() -> None:
    """Console script `git-wt`, so that `git wt ...` works."""
    if sys.argv[1:2] == ["task"]:
        from worktree_tools.cli import task_lean

        code = task_lean.run(sys.argv[2:])  # next and claim as agents run them: no click
        if code is not None:
            sys.exit(code)
    from worktree_tools.cli._common import main

    main(_task_group() if sys.argv[1:2] == ["task"] else build_group(), "git wt")


def _task_group() -> click.Group:
    """`git wt` holding only `task`: a task command is latency-bound (agents claim work in a
    loop), so it does not import every other command group. Same parsing, help and errors
    below `task` as the full group."""
    from worktree_tools.cli.tasks import task_group

    wt_group = _root()
    wt_group.add_command(task_group)
    return wt_group


def _root() -> click.Group:
    import click

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    def wt_group() -> None:
        """git wt: many agents, one repository, nobody's work lost."""

    return wt_group
