"""What `git wt watch` reports about the board of this repository (read-only).

    task_owner_dead     a claim whose owner process is gone (on this host)
    task_claim_expired  a claim not renewed within its TTL
    task_blocked_long   blocked on a human for longer than the threshold
    task_idle           claimed, and no commit on its branch for longer than the threshold
    task_corrupt        a task file that cannot be read

A task's branch is `task/ID` when `--alloc` made it, else the holder's worktree branch; with
neither, the claim time stands in for the last commit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from worktree_tools.core.repo import Worktree
from worktree_tools.tasks.model import HUMAN, TaskState, parse_iso
from worktree_tools.worktrees.records import LeaseState

DEFAULT_BLOCKED_AFTER = 4 * 3600.0
DEFAULT_IDLE_AFTER = 3600.0


@dataclass(frozen=True)
class TaskFinding:
    kind: str
    subject: str
    detail: str
    instance: str
    data: dict[str, Any] = field(default_factory=dict)


def findings(
    wt: Worktree,
    *,
    blocked_after: float = DEFAULT_BLOCKED_AFTER,
    idle_after: float = DEFAULT_IDLE_AFTER,
    now: float | None = None,
) -> list[TaskFinding]:
    from worktree_tools.tasks.board import Board
    from worktree_tools.tasks.store import LocalStore, open_store

    store = open_store(wt, "git-wt-watch")
    if not isinstance(store, LocalStore):
        store = LocalStore(wt, store.ref, "git-wt-watch")  # watch never talks to the network
    t = time.time() if now is None else now
    board = Board.of(store.read(), t)
    out: list[TaskFinding] = []
    for err in board.errors():
        out.append(TaskFinding("task_corrupt", err["path"], err["error"], "", {"fix": err["fix"]}))
    for task in board.tasks.values():
        base = {"task_id": task.id, "agent": task.assigned_to, "token": task.token}
        if task.state is TaskState.CLAIMED:
            lease = board.lease(task)
            if lease.state is LeaseState.OWNER_DEAD:
                out.append(
                    TaskFinding("task_owner_dead", task.id, f"held by {task.assigned_to}: "
                                f"{lease.why}; `git wt task next` will take it over",
                                f"{task.token}", base)
                )  # fmt: skip
            elif lease.state is LeaseState.EXPIRED:
                out.append(
                    TaskFinding("task_claim_expired", task.id, f"held by {task.assigned_to}: "
                                f"{lease.why}", f"{task.token}", base)
                )  # fmt: skip
            else:
                last = _last_activity(wt, task.id, task.assigned_to, task.claimed_at)
                if last is not None and t - last >= idle_after:
                    out.append(
                        TaskFinding("task_idle", task.id, f"claimed by {task.assigned_to}; no "
                                    f"commit for {t - last:.0f}s", f"{task.token}", base)
                    )  # fmt: skip
        elif task.state is TaskState.BLOCKED and task.blocked_on == HUMAN and task.blocked_at:
            waited = t - parse_iso(task.blocked_at)
            if waited >= blocked_after:
                out.append(
                    TaskFinding("task_blocked_long", task.id, f"waiting on a human for "
                                f"{waited:.0f}s: {task.block_reason}", task.blocked_at,
                                {**base, "reason": task.block_reason})
                )  # fmt: skip
    return out


def _last_activity(
    wt: Worktree, task_id: str, agent: str | None, claimed: str | None
) -> float | None:
    """The newest of: the claim, the last commit on the task's branch."""
    from worktree_tools.tasks.worktree import TASK_BRANCH_PREFIX
    from worktree_tools.worktrees import records

    moments = [parse_iso(claimed)] if claimed else []
    branches = [f"refs/heads/{TASK_BRANCH_PREFIX}{task_id}"]
    if agent:
        try:
            rec = records.load(wt.state_dir, agent)
        except records.CorruptRecord:
            rec = None
        if rec is not None:
            branches.append(f"refs/heads/{rec.branch}")
    res = wt.git(["for-each-ref", "--format=%(committerdate:unix)", *branches], check=False)
    moments += [float(x) for x in res.out.split() if x.isdigit()]
    return max(moments) if moments else None
