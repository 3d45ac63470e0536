"""Where tasks meet per-agent worktrees: the handoff of a release (worktrees.handoff computes
its facts), a worktree allocated for a claimed task, and the task `git wt release AGENT` offers
to release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from worktree_tools.core.repo import Worktree
from worktree_tools.tasks.model import now_iso

TASK_BRANCH_PREFIX = "task/"
_HANDOFF_FIELDS = (
    "state", "branch", "base", "head", "merge_base", "commits", "files", "uncommitted",
    "remaining", "next_step", "blockers", "assumptions",
)  # fmt: skip


def handoff_for(
    wt: Worktree,
    agent: str,
    *,
    note: str | None,
    next_step: str | None,
    blockers: tuple[str, ...] = (),
    assumptions: tuple[str, ...] = (),
    lock_timeout: float = 30.0,
) -> dict[str, Any]:
    """The handoff fields of `git wt release` (state, what changed, what remains, the next step,
    blockers): computed from AGENT's worktree when it has one, else the agent's words alone."""
    from worktree_tools.worktrees import handoff, records
    from worktree_tools.worktrees.common import Repo
    from worktree_tools.worktrees.records import RecordState

    data: dict[str, Any] = {
        "agent": agent,
        "created": now_iso(),
        "state": "handoff",
        "branch": None,
        "base": None,
        "head": None,
        "merge_base": None,
        "commits": [],
        "files": [],
        "uncommitted": [],
        "remaining": note,
        "next_step": next_step,
        "blockers": list(blockers),
        "assumptions": list(assumptions),
    }
    try:
        rec = records.load(wt.state_dir, agent)
    except records.CorruptRecord:
        rec = None
    if rec is not None:
        req = handoff.ReleaseRequest(
            agent, RecordState.HANDOFF, note, next_step, blockers, assumptions
        )
        facts = handoff.compute(Repo(wt, agent, lock_timeout), rec, req).to_json()
        data.update({k: facts.get(k) for k in _HANDOFF_FIELDS})
        data["worktree"] = rec.path
    return data


def alloc_for(wt: Worktree, agent: str, task_id: str, lock_timeout: float) -> dict[str, Any]:
    """AGENT's worktree for the task: a new one on branch `task/ID`, or AGENT's existing one
    (its branch kept) now recording the task."""
    from worktree_tools.worktrees import records
    from worktree_tools.worktrees.alloc import AllocRequest, alloc
    from worktree_tools.worktrees.common import Repo

    existing = records.load(wt.state_dir, agent)
    branch = None if existing is not None else f"{TASK_BRANCH_PREFIX}{task_id}"
    req = AllocRequest(agent, Path.cwd(), branch=branch, task=task_id)
    result = alloc(Repo(wt, agent, lock_timeout), req)
    return {
        "worktree": result.record.path,
        "branch": result.record.branch,
        "reused": not result.created,
    }


def held_task(wt: Worktree, agent: str, task_id: str | None) -> dict[str, Any] | None:
    """The task AGENT holds on the board that its worktree records (for `git wt release`), or
    None. Never raises: the offer is a courtesy, the release itself already happened."""
    if not task_id:
        return None
    from worktree_tools.core.errors import WtError
    from worktree_tools.tasks.engine import Ctx, read
    from worktree_tools.tasks.model import TaskState
    from worktree_tools.tasks.store import open_store

    try:
        board = read(Ctx(open_store(wt, agent), agent, 0.0))
        task = board.tasks.get(task_id)
    except (WtError, OSError, ValueError):
        return None
    if task is None or task.state is not TaskState.CLAIMED or task.assigned_to != agent:
        return None
    return {
        "task_id": task.id,
        "token": task.token,
        "command": f"git wt task release {task.id} --agent {agent} --token {task.token}",
    }


def release_with(wt: Worktree, agent: str, task: dict[str, Any], handoff: dict[str, Any]) -> bool:
    """Release the task `held_task` found, carrying the worktree's handoff."""
    import time

    from worktree_tools.tasks.claiming import release
    from worktree_tools.tasks.engine import Ctx
    from worktree_tools.tasks.store import open_store

    fields = {k: handoff.get(k) for k in _HANDOFF_FIELDS}
    fields.update(agent=agent, created=handoff.get("created") or now_iso(), state="handoff")
    ctx = Ctx(open_store(wt, agent), agent, time.monotonic() + 30.0)
    release(ctx, task["task_id"], task["token"], fields)
    return True
