"""Disk and age budgets for gc: `wt.gc.maxDisk` (e.g. `20G`) and `wt.gc.maxAge` (e.g. `7d`).

Over budget, gc also collects worktrees released for a handoff (normally kept for adoption),
oldest first (by release time), still rescuing their work as always. Active, expired-but-alive
and blocked worktrees are never chosen; done ones are collected by gc anyway.
"""

from __future__ import annotations

import re

from worktree_tools.core.errors import InvalidInput
from worktree_tools.env import disk
from worktree_tools.worktrees import records
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.records import Record, RecordState

MAX_DISK = "wt.gc.maxDisk"
MAX_AGE = "wt.gc.maxAge"
_AGE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(raw: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", raw.lower())
    if not m:
        raise InvalidInput(
            f"{MAX_AGE} = {raw!r} is not an age such as 7d, 12h or 3600",
            fix=f"git config {MAX_AGE} 7d",
        )
    return float(m.group(1)) * _AGE_UNITS[m.group(2)]


def _released(rec: Record) -> float:
    return records.parse_time(rec.released_at or rec.heartbeat)


def select(repo: Repo, recs: list[Record], collectable: set[str], now: float) -> dict[str, str]:
    """agent -> why gc should also collect it to get back under the budgets."""
    raw_disk, raw_age = repo.config(MAX_DISK), repo.config(MAX_AGE)
    if not raw_disk and not raw_age:
        return {}
    max_disk = disk.parse_size(raw_disk, MAX_DISK) if raw_disk else None
    max_age = parse_age(raw_age) if raw_age else None
    candidates = sorted(
        (r for r in recs if r.agent not in collectable and r.state is RecordState.HANDOFF),
        key=_released,
    )
    picks: dict[str, str] = {}
    if max_age is not None:
        for rec in candidates:
            age = now - _released(rec)
            if age > max_age:
                picks[rec.agent] = f"released {age:.0f}s ago, older than {MAX_AGE} ({raw_age})"
    if max_disk is not None:
        kept = [r for r in recs if r.agent not in collectable and r.agent not in picks]
        use = disk.usage(repo.state_dir, [r.path for r in kept])
        total = sum(u.bytes for u in use.values())
        for rec in candidates:
            if total <= max_disk:
                break
            if rec.agent in picks or rec.path not in use:
                continue
            picks[rec.agent] = (
                f"worktrees use {disk.human(total)}, over {MAX_DISK} ({raw_disk}): "
                "oldest released first"
            )
            total -= use[rec.path].bytes
    return picks
