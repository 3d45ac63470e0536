"""`git wt list` / `status`: one row per worktree, who owns it and what state it is in."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core import times
from worktree_tools.worktrees import gitinfo, lease, location, records
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.records import CorruptRecord, Record


@dataclass(frozen=True)
class Row:
    agent: str | None
    branch: str | None
    path: str
    head: str | None
    dirty: int | None
    untracked: int | None
    ahead: int | None
    base: str | None
    lease: str  # a LeaseState value, "unmanaged" or "corrupt"
    heartbeat_age: float | None
    handoff: bool
    missing: bool
    locked: str | None
    record: Record | None = None
    owner_alive: bool | None = None
    expires_in: float | None = None
    error: str | None = None
    moved: bool = False  # missing from its path, but its files still exist elsewhere
    moved_to: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("record", "path")}
        data = {"worktree": self.path or None, **data}  # None: a corrupt record
        data["heartbeat_age"] = _round(self.heartbeat_age)
        data["expires_in"] = _round(self.expires_in)
        rec = self.record
        data["task"] = rec.task if rec else None
        data["owner"] = rec.owner.output() if rec else None
        data["created"] = times.normal(rec.created) if rec else None
        data["ttl"] = rec.ttl if rec else None
        data["state"] = rec.state.value if rec else None
        data["adopted_from"] = rec.adopted_from if rec else None
        data["forced"] = rec.forced if rec else None
        return data


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def rows(repo: Repo, agent: str | None = None) -> tuple[list[Row], list[CorruptRecord]]:
    """Every worktree git knows plus every recorded one; corrupt records come back apart."""
    recs, bad = records.load_all(repo.state_dir)
    by_path = {os.path.normpath(r.path): r for r in recs}
    now = time.time()
    out: list[Row] = []
    seen: set[str] = set()
    with repo.admin_lock():
        registry = gitinfo.worktree_list(repo.wt)
    for listed in registry:
        key = os.path.normpath(listed.path)
        seen.add(key)
        rec = by_path.get(key)
        if agent is not None and (rec is None or rec.agent != agent):
            continue
        out.append(_row(repo, listed.path, listed, rec, now))
    for rec in recs:
        if os.path.normpath(rec.path) not in seen and agent in (None, rec.agent):
            out.append(_row(repo, rec.path, None, rec, now))
    for err in bad:
        name = Path(str(err.details.get("record", ""))).parent.name
        if agent in (None, name):
            out.append(
                Row(
                    name,
                    None,
                    "",
                    None,
                    None,
                    None,
                    None,
                    None,
                    "corrupt",
                    None,
                    False,
                    False,
                    None,
                    error=err.message,
                )
            )
    return out, bad


def _row(
    repo: Repo, path: str, listed: gitinfo.Listed | None, rec: Record | None, now: float
) -> Row:
    missing = not os.path.isdir(path)
    head = listed.head if listed else None
    branch = (listed.branch if listed else None) or (rec.branch if rec else None)
    dirty = untracked = ahead = None
    if not missing and not (listed and listed.bare):
        tree = repo.tree(rec) if rec else _plain_tree(repo, Path(path))
        if tree is not None:
            d = gitinfo.dirt(tree)
            dirty, untracked = d.dirty, d.untracked
    base = None
    if rec is not None:
        head = head or gitinfo.rev(repo.wt, f"refs/heads/{rec.branch}")
        base = rec.base
        if head:
            ahead = gitinfo.ahead(
                repo.wt, gitinfo.base_commit(repo.wt, rec.base, rec.base_oid), head
            )
        state = lease.state_of(rec, now).value
        age: float | None = max(0.0, now - records.parse_time(rec.heartbeat))
        handoff = (records.agent_dir(repo.state_dir, rec.agent) / records.HANDOFF_JSON).exists()
        alive = lease.owner_alive(rec.owner)
        expires: float | None = lease.expires_at(rec) - now
    else:
        state, age, handoff, alive, expires = "unmanaged", None, False, None, None
    moved_to: str | None = None
    moved = False
    if missing:
        found = (
            location.locate(rec)
            if rec is not None
            else location.moved_unmanaged(repo.commondir, Path(path))
        )
        moved = found is not None and found.presence is location.Presence.MOVED
        if found is not None and found.moved_to is not None:
            moved_to = os.fspath(found.moved_to)
    return Row(
        agent=rec.agent if rec else None,
        branch=branch,
        path=path,
        head=head,
        dirty=dirty,
        untracked=untracked,
        ahead=ahead,
        base=base,
        lease=state,
        heartbeat_age=age,
        handoff=handoff,
        missing=missing,
        locked=listed.locked if listed else None,
        record=rec,
        owner_alive=alive,
        expires_in=expires,
        moved=moved,
        moved_to=moved_to,
    )


def _plain_tree(repo: Repo, path: Path) -> Any:
    from worktree_tools.core.repo import Worktree

    admin = gitinfo.admin_dir_of(path)
    if admin is None:
        if (path / ".git").is_dir():
            admin = path / ".git"
        else:
            return None
    return Worktree(path, admin, repo.commondir, repo.wt.hooks_dir)


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def table(items: list[Row], disk: dict[str, str] | None = None) -> str:
    """The `list` table; `disk` (path -> size text) adds a DISK column."""
    disk = disk or {}
    header = (
        "AGENT",
        "LEASE",
        "HEARTBEAT",
        "BRANCH",
        "HEAD",
        "DIRTY",
        "UNTRACKED",
        "AHEAD",
        "HANDOFF",
        "DISK",
        "PATH",
    )
    lines = [header]
    for r in items:
        lines.append(
            (
                r.agent or "-",
                r.lease,
                age_text(r.heartbeat_age),
                r.branch or "(detached)",
                (r.head or "-")[:10],
                _num(r.dirty),
                _num(r.untracked),
                _num(r.ahead),
                "yes" if r.handoff else "-",
                disk.get(r.path, "-"),
                r.path + _where_text(r),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=False))
        + "  "
        + line[-1]
        for line in lines
    )


def _where_text(r: Row) -> str:
    if r.moved:
        return f" (moved by hand to {r.moved_to})" if r.moved_to else " (moved by hand)"
    return " (missing)" if r.missing else ""


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)
