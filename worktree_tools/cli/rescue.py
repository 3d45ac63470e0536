"""`git wt rescue list|show|restore`: what gc saved. Moved out of cli/worktrees.py unchanged."""

from __future__ import annotations

from pathlib import Path

import click

from worktree_tools.cli._common import emit, run_guarded
from worktree_tools.cli.worktrees import PREFIX, _json_opt, _repo, _say


@click.group("rescue")
def rescue_group() -> None:
    """Work that gc saved before removing a worktree."""


@rescue_group.command("list")
@_json_opt
def rescue_list_cmd(as_json: bool) -> int:
    """List rescue refs (id, agent, branch, what was saved)."""

    def body() -> int:
        from worktree_tools.worktrees.render import rescue_table
        from worktree_tools.worktrees.rescue import list_all

        items = list_all(_repo())
        emit(
            {"outcome": "ok", "rescues": [r.to_json() for r in items]}, as_json, rescue_table(items)
        )
        return 0

    return run_guarded("git wt rescue list", as_json, body)


@rescue_group.command("restore")
@click.argument("rescue_id")
@click.option("--to", "to", type=click.Path(path_type=Path), help="New worktree directory.")
@_json_opt
def rescue_restore_cmd(rescue_id: str, to: Path | None, as_json: bool) -> int:
    """Recreate a rescued worktree byte for byte (default: where it was)."""

    def body() -> int:
        from worktree_tools.worktrees.rescue import restore

        dest = Path.cwd() / to if to is not None else None
        item, path, branch = restore(_repo(), rescue_id, dest)
        payload = {
            **item.to_json(),
            "outcome": "ok",
            "original_worktree": item.worktree,
            "worktree": str(path),
            "original_branch": item.meta.get("branch"),
            "branch": branch,
        }
        emit(payload, as_json, str(path))
        if branch is None:
            _say(f"{PREFIX} restored {item.id} at {path} on a detached HEAD ({item.head[:12]})")
        return 0

    return run_guarded("git wt rescue restore", as_json, body)
