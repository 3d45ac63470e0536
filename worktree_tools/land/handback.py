"""Hand a request back to the agent that owns its branch: its handoff record says `blocked`,
why (the conflicting paths or the check's output tail) and the exact command to retry. The
agent's branch, worktree and ownership record are not touched."""

from __future__ import annotations

from typing import Any

from worktree_tools.core import events
from worktree_tools.core.errors import WtError
from worktree_tools.core.repo import Worktree
from worktree_tools.land.requests import Request, State
from worktree_tools.worktrees import records
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.handoff import ReleaseRequest, compute
from worktree_tools.worktrees.records import RecordState


def hand_back(
    wt: Worktree, req: Request, state: State, why: str, detail: str | None, lock_timeout: float
) -> dict[str, Any]:
    """Write the owning agent's handoff record; what was written (or why not) for the result."""
    if req.agent is None:
        return {"written": False, "why": f"{req.branch} belongs to no agent's worktree"}
    repo = Repo(wt=wt, actor="git-wt-land", lock_timeout=lock_timeout)
    retry = req.retry_command()
    blockers = [f"land into {req.target} ({state.value}, request {req.id}): {why}"]
    if detail:
        blockers.append(detail)
    try:
        with repo.agent_lock(req.agent):
            rec = records.load(repo.state_dir, req.agent)
            if rec is None or rec.branch != req.branch:
                return {"written": False, "why": f"{req.agent!r} no longer owns {req.branch}"}
            handoff = compute(
                repo,
                rec,
                ReleaseRequest(
                    agent=req.agent,
                    state=RecordState.BLOCKED,
                    remaining=f"{req.branch} was not landed into {req.target}",
                    next_step=f"fix it on {req.branch}, then: {retry}",
                    blockers=tuple(blockers),
                ),
            )
            with repo.repo_lock():
                records.save_handoff(repo.state_dir, handoff)
                events.append(
                    repo.state_dir,
                    "land_handback",
                    req.agent,
                    outcome=state.value,
                    request=req.id,
                    branch=req.branch,
                    target=req.target,
                    retry=retry,
                )
    except WtError as err:  # a corrupt record, a lock held too long: the request still says it
        return {"written": False, "why": err.message}
    return {"written": True, "agent": req.agent, "retry": retry}
