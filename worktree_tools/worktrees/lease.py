"""Leases: who the owner process is, whether it lives, when a lease expires, and renewing it.

An owner is a pid plus that process's start time, so a reused pid is never taken for the owner.
On another host we cannot see the process: such a lease is judged by its TTL alone.
"""

from __future__ import annotations

import os
import time

from worktree_tools.core import events
from worktree_tools.core.errors import InvalidInput, Rejected
from worktree_tools.core.procs import HOST, alive, start_time
from worktree_tools.worktrees import records
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.records import LeaseState, Owner, Record, RecordState

# Processes that stand between an agent and us and exit right after we do: the owner is the
# nearest ancestor that is none of these.
_TRANSIENT = {
    "git",
    "git-wt",
    "sh",
    "bash",
    "dash",
    "zsh",
    "fish",
    "ksh",
    "env",
    "timeout",
    "nohup",
    "nice",
    "xargs",
    "sudo",
    "time",
}


def owner_for(pid: int | None) -> Owner:
    """The owner to record: `pid` (0 for none), else $WT_OWNER_PID, else the nearest ancestor
    that is not git or a shell (the agent process that asked)."""
    if pid is None and os.environ.get("WT_OWNER_PID"):
        try:
            pid = int(os.environ["WT_OWNER_PID"])
        except ValueError:
            raise InvalidInput(
                f"WT_OWNER_PID is not a pid: {os.environ['WT_OWNER_PID']!r}"
            ) from None
    if pid is None:
        pid = _nearest_lasting_ancestor()
    if pid < 0:
        raise InvalidInput(f"--owner-pid must be a pid or 0, not {pid}")
    if pid == 0:
        return Owner(pid=0, started=None, host=HOST)
    started = start_time(pid)
    if started is None:
        raise InvalidInput(f"owner process {pid} does not exist", fix="pass a live pid, or 0")
    return Owner(pid=pid, started=None if started < 0 else started, host=HOST)


def _nearest_lasting_ancestor() -> int:
    import psutil

    try:
        proc = psutil.Process(os.getppid())
        while proc is not None and proc.pid > 1:
            name = proc.name()
            if name not in _TRANSIENT and not name.startswith("git-"):
                return int(proc.pid)
            proc = proc.parent()
    except psutil.Error:
        pass
    return os.getppid()


def owner_alive(owner: Owner) -> bool | None:
    """True/False on this host; None when the owner is elsewhere or untracked (pid 0)."""
    if owner.host != HOST or owner.pid == 0:
        return None
    return alive(owner.pid, owner.started, host=owner.host)


def expires_at(rec: Record) -> float:
    return records.parse_time(rec.heartbeat) + rec.ttl


def state_of(rec: Record, now: float | None = None) -> LeaseState:
    """The lease state: the owner's declaration first, then proof of death, then the TTL."""
    if rec.state in (RecordState.DONE, RecordState.HANDOFF):
        return LeaseState.RELEASED
    if rec.state is RecordState.BLOCKED:
        return LeaseState.BLOCKED
    if owner_alive(rec.owner) is False:
        return LeaseState.OWNER_DEAD
    if (now if now is not None else time.time()) >= expires_at(rec):
        return LeaseState.EXPIRED
    return LeaseState.ACTIVE


def heartbeat(
    repo: Repo, agent: str, *, ttl: float | None = None, owner_pid: int | None = None
) -> tuple[Record, LeaseState]:
    """Renew AGENT's lease. A dead owner is replaced by the caller (the agent came back).
    Returns the new record and the lease state it had before."""
    records.require_ttl(ttl)
    with repo.agent_lock(agent), repo.repo_lock():
        rec = records.require(repo.state_dir, agent)
        before = state_of(rec)
        if before in (LeaseState.RELEASED, LeaseState.BLOCKED):
            raise Rejected(
                f"{agent!r} released its worktree ({rec.state.value}); a heartbeat cannot renew it",
                fix=f"git wt alloc {agent} (to take it back) or git wt adopt {agent} --as NEW",
            )
        changes: dict[str, object] = {"heartbeat": records.now_iso()}
        if ttl is not None:
            changes["ttl"] = ttl
        if owner_pid is not None or before is LeaseState.OWNER_DEAD:
            changes["owner"] = owner_for(owner_pid)
        new = rec.with_changes(**changes)
        records.save(repo.state_dir, new)
        if before is not LeaseState.ACTIVE or "owner" in changes or ttl is not None:
            events.append(
                repo.state_dir,
                "heartbeat",
                agent,
                before=before.value,
                owner_pid=new.owner.pid,
                ttl=new.ttl,
            )
    return new, before
