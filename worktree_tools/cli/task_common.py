"""What every `git wt task` command shares: its options, as click reads them (what is done with
them is cli/task_run.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from worktree_tools.cli._common import PID, SECONDS, TTL, timeout_option
from worktree_tools.cli.task_run import execute

if TYPE_CHECKING:
    from worktree_tools.cli.task_run import Body


def opts(*, holder: bool = False, writes: bool = True) -> Callable[[Any], Any]:
    def wrap(f: Any) -> Any:
        f = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(f)
        f = click.option(
            "--remote",
            help="Use the board on this remote (name or URL), shared by every machine "
            "(default: git config wt.task.remote; none: this repository's board).",
        )(f)
        if writes:
            f = click.option(
                "--lock-timeout",
                type=SECONDS,
                default=None,
                callback=timeout_option,
                show_default="30, or $WT_LOCK_TIMEOUT",
                help="Seconds to keep retrying while other agents change the board.",
            )(f)
        help_ = "Acting agent (default: $WT_AGENT, the worktree's owner"
        help_ += ")." if holder else ", user@host)."
        return click.option("--agent", help=help_)(f)

    return wrap


def board_command(name: str, *, holder: bool = False, writes: bool = True) -> Callable[[Body], Any]:
    """`git wt task NAME`: the options every task command takes (`opts`) and what it does with
    them, written once: resolve the run (inside run_guarded, so a bad --agent or board is a
    typed refusal), call the decorated body with the run and its own options, print the
    (result, text) it returns. Put click's `command` and the command's own options above."""

    def wrap(body: Body) -> Any:
        @functools.wraps(body)
        def command(
            agent: str | None,
            remote: str | None,
            as_json: bool,
            lock_timeout: float = 30.0,
            **own: Any,
        ) -> int:
            return execute(
                name, body, holder=holder, agent=agent, remote=remote, as_json=as_json,
                lock_timeout=lock_timeout, **own,
            )  # fmt: skip

        return opts(holder=holder, writes=writes)(command)

    return wrap


def owner_opts(*, alloc: bool = False) -> Callable[[Any], Any]:
    """The options of a claim: its owner and lease (and, for next and claim, --alloc)."""

    def wrap(f: Any) -> Any:
        if alloc:
            f = click.option(
                "--alloc", is_flag=True, help="Also allocate my worktree (branch task/ID)."
            )(f)
        f = click.option(
            "--ttl", type=TTL, help="Claim lease in seconds (default: wt.task.ttl or 1800)."
        )(f)
        return click.option(
            "--owner-pid", type=PID, help="Owner process (default: the calling agent; 0: none)."
        )(f)

    return wrap
