"""`git wt watch`: a read-only monitoring loop (or one scan with --once)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from worktree_tools.cli._common import COUNT, SECONDS, Number, dumps, emit, printable, run_guarded
from worktree_tools.core.fields import MAX_WAIT


@click.command("watch")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one object per event.")
@click.option(
    "--interval",
    type=Number(float, lo=0.05, hi=MAX_WAIT),
    default=5.0,
    show_default=True,
    help="Seconds between scans.",
)
@click.option("--once", is_flag=True, help="Print the current findings and exit (7: attention).")
@click.option(
    "--lock-threshold",
    type=SECONDS,
    default=60.0,
    show_default=True,
    help="Report a lock held longer than this many seconds.",
)
@click.option(
    "--task-blocked-after",
    type=SECONDS,
    default=4 * 3600.0,
    show_default=True,
    help="Report a task blocked on a human for longer than this many seconds.",
)
@click.option(
    "--task-idle-after",
    type=SECONDS,
    default=3600.0,
    show_default=True,
    help="Report a claimed task with no commit on its branch for this many seconds.",
)
@click.option("--cycles", type=COUNT, default=0, help="Stop after N scans.")
@click.option("--no-journal", is_flag=True, help="Do not verify the journal rules on branches.")
def watch_cmd(
    as_json: bool,
    interval: float,
    once: bool,
    lock_threshold: float,
    task_blocked_after: float,
    task_idle_after: float,
    cycles: int,
    no_journal: bool,
) -> int:
    """Watch the fleet and print one event per change; never changes anything.

    One event per finding (its kinds are listed below), `raised` when it appears and `cleared`
    when it goes away.

    \b
    git wt watch                      # a line per event, every 5 s
    git wt watch --json --interval 1  # JSON Lines for a dashboard or an alerting agent
    git wt watch --once               # cron/CI: exit 0 healthy, 7 something needs attention
    """

    def body() -> int:
        from worktree_tools.core.errors import Outcome, exit_code
        from worktree_tools.core.repo import discover
        from worktree_tools.health.watch import Event, Options, Scanner, watch

        wt = discover(Path.cwd(), tolerate_missing_toplevel=True)
        # Every path is absolute from here on. Leave the repository, so that the lock-liveness
        # scans of doctor and wt-commit (which count processes named git* whose working
        # directory is in the repository as possible holders) never take the watcher for one.
        os.chdir("/")
        options = Options(
            lock_threshold=lock_threshold,
            journal=not no_journal,
            task_blocked_after=task_blocked_after,
            task_idle_after=task_idle_after,
        )
        if once:
            scanner = Scanner(wt, options)
            findings = scanner.scan()
            # A source that could not be checked is no all-clear.
            outcome = Outcome.ATTENTION if findings or scanner.errors else Outcome.OK
            for err in scanner.errors:
                click.echo(f"git wt watch: could not check {err}", err=True)
            lines = [f"{f.kind.value}: {f.subject}: {f.detail}" for f in findings]
            emit(
                {
                    "outcome": outcome.value,
                    "findings": [f.to_json() for f in findings],
                    "errors": scanner.errors,
                },
                as_json,
                "\n".join(lines)
                or ("not every source could be checked" if scanner.errors else "")
                or "healthy: nothing needs attention",
            )
            return exit_code(outcome)
        try:
            for item in watch(wt, interval, options, cycles=cycles):
                if isinstance(item, Event):
                    click.echo(dumps(item.to_json()) if as_json else printable(item.line()))
                else:
                    for err in item:
                        click.echo(f"git wt watch: could not check {err}", err=True)
                sys.stdout.flush()
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a watch ends
        return 0

    return run_guarded("git wt watch", as_json, body)
