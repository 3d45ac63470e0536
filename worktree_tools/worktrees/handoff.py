"""Handoffs: `release` (leave a record for the next owner), `show`, and `adopt` (take over)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core import events
from worktree_tools.core.agent import check_name
from worktree_tools.core.errors import InvalidInput, Rejected
from worktree_tools.worktrees import gitinfo, lease, records
from worktree_tools.worktrees.alloc import lock_reason, write_owner_file
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.records import Handoff, LeaseState, Record, RecordState


@dataclass(frozen=True)
class ReleaseRequest:
    agent: str
    state: RecordState = RecordState.HANDOFF
    remaining: str | None = None
    next_step: str | None = None
    blockers: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()

    def validated(self) -> ReleaseRequest:
        check_name(self.agent)
        if self.state is RecordState.ACTIVE:
            raise InvalidInput("--state must be done, blocked or handoff")
        if self.state is RecordState.BLOCKED and not any(b.strip() for b in self.blockers):
            raise InvalidInput(
                "--state blocked needs its reason",
                fix='add --blocker "waiting for approval of the deploy" (what a human must do)',
            )
        return self


def compute(repo: Repo, rec: Record, req: ReleaseRequest | None = None) -> Handoff:
    """The facts of a worktree now (commits and files of its branch, uncommitted paths), plus
    what the owner says in `req`."""
    tree = repo.tree(rec)
    present = Path(rec.path).is_dir()
    head = (gitinfo.rev(tree, "HEAD") if present else None) or gitinfo.rev(
        repo.wt, f"refs/heads/{rec.branch}"
    )
    base = gitinfo.base_commit(repo.wt, rec.base, rec.base_oid)
    mb = gitinfo.merge_base(repo.wt, base, head) if head else None
    return Handoff(
        agent=rec.agent,
        state=req.state if req else rec.state,
        created=records.now_iso(),
        branch=rec.branch,
        base=rec.base,
        head=head,
        merge_base=mb,
        commits=gitinfo.commits(repo.wt, base, head) if head else [],
        files=gitinfo.changed_files(repo.wt, mb, head) if head and mb else [],
        uncommitted=gitinfo.status_entries(tree) if present else [],
        remaining=req.remaining if req else None,
        next_step=req.next_step if req else None,
        blockers=list(req.blockers) if req else [],
        assumptions=list(req.assumptions) if req else [],
        task=rec.task,
    )


def release(repo: Repo, req: ReleaseRequest) -> tuple[Record, Handoff]:
    req = req.validated()
    with repo.agent_lock(req.agent):
        with repo.repo_lock():
            rec = records.require(repo.state_dir, req.agent)
        handoff = compute(repo, rec, req)
        with repo.repo_lock():
            if records.require(repo.state_dir, req.agent) != rec:
                raise InvalidInput(f"{req.agent!r}'s record changed meanwhile; retry")
            new = rec.with_changes(state=req.state, released_at=handoff.created)
            records.save_handoff(repo.state_dir, handoff)
            records.save(repo.state_dir, new)
            events.append(
                repo.state_dir,
                "release",
                req.agent,
                outcome=req.state.value,
                branch=rec.branch,
                state=req.state.value,
                handoff=handoff.output(),
            )
    return new, handoff


def show(repo: Repo, agent: str) -> tuple[Record, LeaseState, Handoff | None]:
    check_name(agent)
    rec = records.require(repo.state_dir, agent)
    return rec, lease.state_of(rec), records.load_handoff(repo.state_dir, agent)


@dataclass(frozen=True)
class Adoption:
    record: Record
    handoff: Handoff
    before: LeaseState
    previous: Record

    @property
    def forced(self) -> bool:
        return self.record.forced

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": "ok",
            **self.record.output(),
            "adopted_from": self.previous.agent,
            "lease_before": self.before.value,
            "handoff": self.handoff.output(),
        }


def adopt(
    repo: Repo,
    agent: str,
    new: str,
    *,
    force: bool = False,
    owner_pid: int | None = None,
    ttl: float | None = None,
) -> Adoption:
    """Give AGENT's released, expired or dead-owner worktree to NEW. A live one only with
    `force`, and the record says so."""
    check_name(agent)
    check_name(new, "new agent name")
    if new == agent:
        raise InvalidInput("--as must name a different agent", fix=f"git wt alloc {agent}")
    records.require_ttl(ttl)
    with repo.agent_locks(agent, new):
        with repo.repo_lock():
            rec = records.require(repo.state_dir, agent)
            if records.load(repo.state_dir, new) is not None:
                raise InvalidInput(
                    f"{new!r} already owns a worktree", fix=f"git wt release {new} first"
                )
        before = lease.state_of(rec)
        if before is LeaseState.ACTIVE and not force:
            raise Rejected(
                f"{agent!r}'s lease is active (owner pid {rec.owner.pid} on {rec.owner.host}, "
                f"heartbeat {rec.heartbeat}); it was not taken over",
                fix=f"ask {agent} to release it, wait for the lease to expire, or --force",
                lease=before.value,
            )
        handoff = records.load_handoff(repo.state_dir, agent) or compute(repo, rec)
        handoff = Handoff(
            **{
                **handoff.__dict__,
                "agent": new,
                "adopted_by": [
                    *handoff.adopted_by,
                    {"agent": new, "at": records.now_iso(), "from": agent, "forced": force},
                ],
            }
        )
        stamp = records.now_iso()
        taken = rec.with_changes(
            agent=new,
            owner=lease.owner_for(owner_pid),
            heartbeat=stamp,
            state=RecordState.ACTIVE,
            released_at=None,
            adopted_from=agent,
            forced=before is LeaseState.ACTIVE,
            ttl=ttl or rec.ttl,
        )
        with repo.repo_lock():
            if records.require(repo.state_dir, agent) != rec:
                raise InvalidInput(f"{agent!r}'s record changed meanwhile; retry")
            # New records first, then the old ones go: a crash in between leaves both
            # (visible in `list`), never neither.
            records.save_handoff(repo.state_dir, handoff)
            records.save(repo.state_dir, taken)
            records.delete(repo.state_dir, agent)
            events.append(
                repo.state_dir,
                "adopt",
                new,
                outcome="forced" if taken.forced else "adopted",
                branch=rec.branch,
                why=f"from {agent} ({before.value})",
                adopted_from=agent,
                forced=taken.forced,
                lease_before=before.value,
                previous_owner=rec.owner.__dict__,
                worktree=rec.path,
            )
        admin = Path(rec.admin_dir)
        if admin.is_dir():
            write_owner_file(admin, new)
            with repo.admin_lock():
                repo.wt.git(["worktree", "unlock", rec.path], check=False)
                repo.wt.git(["worktree", "lock", "--reason", lock_reason(new), rec.path])
    return Adoption(taken, handoff, before, rec)
