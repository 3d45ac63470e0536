"""`git wt gc`: remove worktrees nobody owns any more, and never lose a byte doing it.

A worktree is collected when its owner is provably dead, its lease expired (and its owner is
not provably alive here), or it was released as done. Before removal, uncommitted work and
unmerged commits go to a rescue ref; the branch is deleted only when its work is integrated
into the base. A worktree whose wt-commit lock is held (a commit in progress), in which git
holds index.lock, or in which a live process works (its current directory or an open file) is
skipped, untouched. Work is judged by content (snapshot.py), never by git's index flags or stat
cache. A path is collected only while it is provably the record's worktree (location.py): a
path now used by another worktree is never touched, and a worktree moved by hand is kept.
Worktrees without a record are never touched (unless --include-unmanaged).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.core import events
from worktree_tools.core.errors import WtError
from worktree_tools.env import budget
from worktree_tools.worktrees import gitinfo, lease, location, records, remove, rescue
from worktree_tools.worktrees.collect import GcItem, Say, collect, main_toplevel
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.gcaction import BranchAction, GcAction
from worktree_tools.worktrees.location import Presence
from worktree_tools.worktrees.records import LeaseState, Record, RecordState


@dataclass
class GcResult:
    dry_run: bool
    items: list[GcItem] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    moved: list[dict[str, str | None]] = field(default_factory=list)

    @property
    def busy(self) -> list[GcItem]:
        return [i for i in self.items if i.action is GcAction.SKIPPED]

    @property
    def failed(self) -> list[GcItem]:
        return [i for i in self.items if i.action is GcAction.FAILED]

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": "ok",
            "dry_run": self.dry_run,
            "worktrees": [i.to_json() for i in self.items],
            "pruned": self.pruned,
            "moved": self.moved,
        }


def why_collectable(rec: Record, now: float) -> tuple[LeaseState, str | None]:
    """(lease state, reason to collect) — reason None means keep."""
    state = lease.state_of(rec, now)
    if state is LeaseState.OWNER_DEAD:
        return state, f"owner pid {rec.owner.pid} is dead"
    if state is LeaseState.EXPIRED:
        if lease.owner_alive(rec.owner):
            return state, None  # never reap a running agent: it may still write there
        return state, f"lease expired {now - lease.expires_at(rec):.0f}s ago"
    if state is LeaseState.RELEASED and rec.state is RecordState.DONE:
        return state, "released as done"
    return state, None


def _keep_reason(rec: Record, state: LeaseState) -> str:
    if state is LeaseState.EXPIRED:
        return f"lease expired but owner pid {rec.owner.pid} is alive on this host"
    if state is LeaseState.RELEASED:
        return f"released for {rec.state.value}: waiting to be adopted"
    return str(state.value)


def gc(
    repo: Repo, *, dry_run: bool = False, include_unmanaged: bool = False, say: Say | None = None
) -> GcResult:
    """Collect what can be collected; `say(line)` receives the undo hints for stderr.
    `include_unmanaged`: also worktrees git wt did not create (never locked ones)."""
    say = say or (lambda _line: None)
    recs, bad = records.load_all(repo.state_dir)
    if bad:
        raise bad[0]  # never guess about a record we cannot read
    result = GcResult(dry_run=dry_run)
    main = main_toplevel(repo)
    with repo.admin_lock():
        listed = gitinfo.worktree_list(repo.wt)
    for entry in [] if dry_run else listed[1:]:
        admin = gitinfo.admin_dir_of(Path(entry.path))
        if admin is not None:
            location.remember(admin, Path(entry.path))  # so a later move can be told apart
    if not dry_run:
        near = [repo.placement(), *(Path(e.path).parent for e in listed)]
        near += [Path(r.path).parent for r in recs]
        for lo, action, reason in remove.sweep(repo, near, say):
            result.items.append(
                GcItem(lo.agent or "-", str(lo.aside), None, "leftover", action, reason)
            )
    now = time.time()
    over = budget.select(repo, recs, {r.agent for r in recs if why_collectable(r, now)[1]}, now)
    for rec in recs:
        state, why = why_collectable(rec, now)
        why = why or over.get(rec.agent)
        item = GcItem(rec.agent, rec.path, rec.branch, state.value, GcAction.KEPT, why or "")
        result.items.append(item)
        where = location.locate(rec, main=main)
        if where.presence is Presence.MOVED:
            _moved(repo, rec, item, where, dry_run, say)
        elif why is None:
            item.reason = _keep_reason(rec, state)
        elif dry_run:
            _plan(repo, rec, item, where)
        else:
            collect(repo, rec, item, say, main=main)
    if include_unmanaged:
        from worktree_tools.worktrees.unmanaged import unmanaged_records

        for rec, locked in unmanaged_records(repo, {r.path for r in recs}):
            item = GcItem(rec.agent, rec.path, rec.branch, "unmanaged", GcAction.KEPT, "unmanaged")
            result.items.append(item)
            if locked is not None:
                item.reason = f"locked by someone else ({locked or 'no reason given'})"
            elif dry_run:
                _plan(repo, rec, item, location.locate(rec, managed=False, main=main))
            else:
                item.reason = "unmanaged worktree, collected on request (--include-unmanaged)"
                collect(repo, rec, item, say, managed=False, main=main)
    with repo.admin_lock():
        result.pruned, result.moved = remove.prune(repo, dry_run, say)
    return result


def _moved(
    repo: Repo, rec: Record, item: GcItem, where: location.Where, dry_run: bool, say: Say
) -> None:
    """A worktree moved by hand: kept, and made usable where it is now when it can be found."""
    item.action = GcAction.KEPT
    dest = where.moved_to
    item.moved_to = None if dest is None else os.fspath(dest)
    if dest is None:
        item.reason = (
            f"moved by hand (its files still exist elsewhere; {where.detail or 'place unknown'})"
            "; run `git worktree repair` inside it"
        )
        return
    item.reason = f"moved by hand to {dest}"
    if dry_run:
        return
    with repo.agent_lock(rec.agent), repo.admin_lock():
        repo.wt.git(["worktree", "repair", os.fspath(dest)], check=False)
        with repo.repo_lock():
            fresh = records.load(repo.state_dir, rec.agent)
            if fresh == rec:
                records.save(repo.state_dir, rec.with_changes(path=os.fspath(dest)))
                events.append(
                    repo.state_dir, "moved", rec.agent, outcome="moved", worktree=os.fspath(dest),
                    previous_worktree=rec.path, branch=rec.branch,
                )  # fmt: skip
    say(f"wt: {rec.agent}'s worktree was moved by hand from {rec.path} to {dest}; kept, and "
        "git's registry and its record now say where it is")  # fmt: skip


def _plan(repo: Repo, rec: Record, item: GcItem, where: location.Where) -> None:
    item.action = GcAction.WOULD_REMOVE
    present = where.presence is Presence.HERE
    tree = repo.tree(rec)
    base = gitinfo.base_commit(repo.wt, rec.base, rec.base_oid)
    head = gitinfo.rev(tree, "HEAD") if present else None
    head = head or gitinfo.rev(repo.wt, f"refs/heads/{rec.branch}")
    dirty = False
    if present:
        try:
            dirty = rescue.capture(repo, tree, write=False).dirty
        except WtError:
            dirty = True
    unmerged = head is not None and not gitinfo.integrated(repo.wt, head, base)
    if dirty or unmerged:
        item.rescue = "(would rescue)"
    if where.presence is Presence.FOREIGN:
        item.notes.append(f"its path is no longer its worktree ({where.detail}): left alone")
    item.branch_action = BranchAction.KEPT if unmerged else BranchAction.WOULD_DELETE
