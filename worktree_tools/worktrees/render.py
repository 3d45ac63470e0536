"""Text for people: handoffs, gc results and rescues (JSON is the complete form)."""

from __future__ import annotations

from worktree_tools.worktrees.gc import GcResult
from worktree_tools.worktrees.gcaction import GcAction
from worktree_tools.worktrees.records import Handoff, LeaseState, Record
from worktree_tools.worktrees.rescue import Rescue


def handoff_text(rec: Record, state: LeaseState, handoff: Handoff | None) -> str:
    lines = [
        f"agent:    {rec.agent}"
        + (f" (adopted from {rec.adopted_from})" if rec.adopted_from else ""),
        f"lease:    {state.value} (declared {rec.state.value}; heartbeat {rec.heartbeat}, "
        f"ttl {rec.ttl:.0f}s; owner pid {rec.owner.pid} on {rec.owner.host})",
        f"worktree: {rec.path}",
        f"branch:   {rec.branch} (base {rec.base})",
    ]
    if rec.task:
        lines.append(f"task:     {rec.task}")
    if handoff is None:
        lines.append("handoff:  none (the owner has not released it)")
        return "\n".join(lines)
    lines.append(f"handoff:  {handoff.state.value}, written {handoff.created}")
    if handoff.blockers:
        lines.append("blocked on:")
        lines += [f"  - {b}" for b in handoff.blockers]
    if handoff.remaining:
        lines.append(f"remaining: {handoff.remaining}")
    if handoff.next_step:
        lines.append(f"next step: {handoff.next_step}")
    if handoff.assumptions:
        lines.append("assumptions:")
        lines += [f"  - {a}" for a in handoff.assumptions]
    lines.append(f"commits ({len(handoff.commits)}):")
    lines += [f"  {c['oid'][:10]} {c['subject']}" for c in handoff.commits[:20]]
    lines.append(f"files changed ({len(handoff.files)}):")
    lines += [f"  {f['status']} {f['path']}" for f in handoff.files[:50]]
    if handoff.uncommitted:
        lines.append(f"uncommitted ({len(handoff.uncommitted)}):")
        lines += [f"  {u['status']} {u['path']}" for u in handoff.uncommitted[:50]]
    for adoption in handoff.adopted_by:
        forced = " (forced)" if adoption.get("forced") else ""
        lines.append(f"adopted by {adoption.get('agent')} at {adoption.get('at')}{forced}")
    return "\n".join(lines)


def gc_text(result: GcResult) -> str:
    verb = "would remove" if result.dry_run else "removed"
    lines = []
    for item in result.items:
        if item.action in (GcAction.REMOVED, GcAction.WOULD_REMOVE):
            extra = f"; rescue {item.rescue}" if item.rescue else ""
            branch = f"; branch {item.branch_action.value}" if item.branch_action else ""
            lines.append(f"{verb} {item.agent}: {item.reason}{extra}{branch}")
        else:
            lines.append(f"{item.action.value} {item.agent}: {item.reason}")
    lines += [f"pruned: {p}" for p in result.pruned]
    lines += [
        f"moved by hand: {m['worktree']} -> {m['moved_to'] or '(elsewhere)'}; kept"
        for m in result.moved
    ]
    return "\n".join(lines) if lines else "nothing to collect"


def rescue_table(items: list[Rescue]) -> str:
    if not items:
        return "no rescues"
    lines = []
    for r in items:
        saved = []
        if r.meta.get("uncommitted"):
            saved.append("uncommitted")
        if r.meta.get("unmerged"):
            saved.append("unmerged commits")
        lines.append(
            f"{r.id}  branch {r.meta.get('branch', '?')}  {' + '.join(saved) or '-'}  "
            f"from {r.worktree or '?'} ({r.meta.get('reason', '')})"
        )
    return "\n".join(lines)
