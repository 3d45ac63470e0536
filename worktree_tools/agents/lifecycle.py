"""What the lifecycle hooks do: a session starts (heartbeat, show the handoff), a session stops
or compacts (record a handoff, keep the lease), a harness creates or removes a worktree (alloc,
release)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from worktree_tools.core import events
from worktree_tools.core.agent import recorded_owner
from worktree_tools.core.errors import InvalidInput, WtError
from worktree_tools.core.repo import Worktree, discover
from worktree_tools.mcpserver.commands import Answer, run

SHARED_NOTE = (
    "worktree-tools: this worktree is shared (the main worktree, or one nobody allocated). "
    "Commit only your own paths: wt-commit -m MSG -- PATH... (never git commit -a, git add -A "
    "or git stash). For a worktree of your own: git wt alloc NAME."
)


def _where(cwd: Path) -> tuple[Worktree, str | None] | None:
    try:
        wt = discover(cwd)
    except WtError:
        return None
    return wt, (None if wt.is_main else recorded_owner(wt.gitdir))


def session_start(cwd: Path) -> str | None:
    """Renew the owner's lease and return what the agent should know: its handoff, or how to
    work in a shared worktree. None outside a git repository."""
    found = _where(cwd)
    if found is None:
        return None
    wt, owner = found
    if owner is None:
        return SHARED_NOTE
    beat = run(["heartbeat", owner, "--json"], wt.toplevel)
    shown = run(["show", owner, "--json"], wt.toplevel)
    lines = [
        f"worktree-tools: you are agent {owner} in {wt.toplevel}; commit with "
        "wt-commit -m MSG -- PATH... (export WT_AGENT=" + owner + ")."
    ]
    if beat.is_error:
        lines.append(
            f"heartbeat failed: {beat.payload.get('error')} (fix: {beat.payload.get('fix')})"
        )
    lines.append(_handoff_text(shown))
    return "\n".join(line for line in lines if line)


def _handoff_text(shown: Answer) -> str:
    if shown.is_error:
        return ""
    handoff = shown.payload.get("handoff")
    if not isinstance(handoff, dict):
        return "No handoff recorded for this worktree yet."
    keep = {
        k: handoff.get(k)
        for k in ("state", "created", "task", "remaining", "next_step", "blockers", "assumptions")
    }
    uncommitted = handoff.get("uncommitted")
    if isinstance(uncommitted, list):
        keep["uncommitted"] = uncommitted[:50]
    commits = handoff.get("commits")
    if isinstance(commits, list):
        keep["commits"] = commits[:20]
    return "Last handoff: " + json.dumps(keep, ensure_ascii=False, default=str)


def checkpoint(cwd: Path, why: str) -> dict[str, Any] | None:
    """Record a handoff of the owner's worktree as it is now, keeping the lease (a stop or a
    compaction is not a release). None when the worktree has no owner."""
    found = _where(cwd)
    if found is None:
        return None
    wt, owner = found
    if owner is None:
        return None
    from worktree_tools.worktrees import records
    from worktree_tools.worktrees.common import open_repo
    from worktree_tools.worktrees.handoff import compute

    repo = open_repo(wt.toplevel, owner)
    with repo.agent_lock(owner):
        rec = records.require(repo.state_dir, owner)
        handoff = compute(repo, rec)
        records.save_handoff(repo.state_dir, handoff)
    events.append(
        repo.state_dir, "handoff_recorded", owner, outcome="ok", why=why,
        worktree=os.fspath(wt.toplevel), branch=rec.branch,
    )  # fmt: skip
    return handoff.output()


def worktree_create(cwd: Path, name: str) -> Path:
    """Claude Code's WorktreeCreate: `git wt alloc NAME` (no owner process: the hook exits at
    once; the lease lives by TTL and the SessionStart heartbeat)."""
    answer = run(["alloc", name, "--owner-pid", "0", "--json"], cwd)
    if answer.is_error:
        raise InvalidInput(
            f"git wt alloc {name} failed: {answer.payload.get('error')}",
            fix=answer.payload.get("fix") or f"git wt alloc {name}",
        )
    path = answer.payload.get("worktree")
    if not isinstance(path, str):
        raise InvalidInput(f"git wt alloc {name} printed no worktree path")
    return Path(path)


def worktree_remove(cwd: Path, path: Path) -> str | None:
    """Claude Code's WorktreeRemove: release the agent whose worktree is at `path` (done)."""
    found = _where(path) or _where(cwd)
    if found is None:
        return None
    wt, owner = found
    if owner is None:
        return None
    answer = run(["release", owner, "--state", "done", "--json"], wt.toplevel)
    if answer.is_error:
        raise InvalidInput(
            f"git wt release {owner} failed: {answer.payload.get('error')}",
            fix=answer.payload.get("fix") or f"git wt release {owner} --state done",
        )
    return owner
