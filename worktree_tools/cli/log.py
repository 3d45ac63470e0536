"""`git wt log`: the event log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from worktree_tools.cli._common import COUNT, emit, printable, run_guarded


@click.command("log")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object with the events, oldest first."
)
@click.option("-n", "--limit", type=COUNT, default=0, help="Only the last N events.")
@click.option("--agent", help="Only this agent's events.")
@click.option("--action", help="Only this action (commit, stale_lock_removed, ...).")
def log_cmd(as_json: bool, limit: int, agent: str | None, action: str | None) -> int:
    """Show the event log (every mutating action, oldest first)."""

    def body() -> int:
        from worktree_tools.core import events
        from worktree_tools.core.repo import discover

        wt = discover(Path.cwd())
        rows = [
            e
            for e in events.read(wt.state_dir)
            if (agent is None or e.get("agent") == agent)
            and (action is None or e.get("action") == action)
        ]
        if limit > 0:
            rows = rows[-limit:]
        if as_json:
            from worktree_tools.core import times

            rows = [times.normalized(e) for e in rows]
            emit({"outcome": "ok", "count": len(rows), "events": rows}, True, "")
            return 0
        for event in rows:
            click.echo(printable(_event_line(event)))
        return 0

    return run_guarded("git wt log", as_json, body)


def _event_line(e: dict[str, Any]) -> str:
    if "corrupt" in e:
        return (
            f"(line {e['line']} of {e['path']} is not an event: {e['why']}: {e['corrupt'][:80]!r})"
        )
    rest = []
    for key in ("branch", "commit", "error", "why", "lock"):
        if e.get(key):
            value = str(e[key])
            rest.append(f"{key}={value[:12] if key == 'commit' else value}")
    if e.get("path_count"):
        rest.append(f"paths={e['path_count']}")
    if "lock_hold_ms" in e:
        rest.append(f"hold={e['lock_hold_ms']}ms")
    outcome = e.get("outcome")
    return (
        f"{e['ts']}  {e['agent']:<16} {e['action']:<12} "
        f"{outcome if isinstance(outcome, str) else '':<12} {' '.join(rest)}"
    )
