"""What `git wt watch` reports: findings (one thing that needs attention now), and the events
between two scans (a finding `raised` or `cleared`). Moved out of health/watch.py unchanged.

A finding is identified by its kind, its subject and its instance (the owner pid, the lock
holder, the heartbeat...), so a detail that merely ages (a lock held 61 s, then 62 s) is no new
event, while a second owner dying on the same worktree is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from worktree_tools.core import times


class Kind(str, Enum):
    LEASE_EXPIRED = "lease_expired"
    OWNER_DEAD = "owner_dead"
    LOCK_HELD_LONG = "lock_held_long"
    STALE_GIT_LOCK = "stale_git_lock"
    BLOCKED = "blocked_on_human"
    JOURNAL_VIOLATION = "journal_violation"
    STRANDED_PATCH = "stranded_patch"
    ORPHAN_HOOK = "orphan_hook"
    LEAKED_CONFIG = "leaked_config"
    CORRUPT_RECORD = "corrupt_record"
    LAND_QUEUED = "land_queued"
    LAND_STUCK = "land_stuck"
    LAND_HANDED_BACK = "land_handed_back"
    HOOKS_BYPASSED = "hooks_bypassed"
    HOOK_STASH_LEFTOVER = "hook_stash_leftover"
    TASK_OWNER_DEAD = "task_owner_dead"
    TASK_CLAIM_EXPIRED = "task_claim_expired"
    TASK_BLOCKED_LONG = "task_blocked_long"
    TASK_IDLE = "task_idle"
    TASK_CORRUPT = "task_corrupt"
    DISK_OVER_BUDGET = "disk_over_budget"
    GC_LEFTOVER = "gc_leftover"


class Change(str, Enum):
    RAISED = "raised"
    CLEARED = "cleared"


@dataclass(frozen=True)
class Finding:
    """One thing that needs attention now."""

    kind: Kind
    subject: str  # the agent, lock path, branch or patch it is about
    detail: str  # one line for people
    instance: str = ""  # what makes a recurrence a new finding (owner pid, holder, commit...)
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind.value, self.subject, self.instance)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "subject": self.subject,
            "detail": self.detail,
            **self.data,
        }


@dataclass(frozen=True)
class Event:
    """A change between two scans."""

    change: Change
    finding: Finding
    cycle: int
    ts: str

    def to_json(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "cycle": self.cycle,
            "change": self.change.value,
            **self.finding.to_json(),
        }

    def line(self) -> str:
        return (
            f"{self.ts}  {self.change.value:<7} {self.finding.kind.value:<17} "
            f"{self.finding.subject}: {self.finding.detail}"
        )


now_iso = times.now_iso


def diff(
    before: dict[tuple[str, str, str], Finding], after: list[Finding], cycle: int
) -> tuple[list[Event], dict[tuple[str, str, str], Finding]]:
    """The events between two scans, and the new state to compare the next scan with."""
    ts = now_iso()
    current: dict[tuple[str, str, str], Finding] = {}
    for f in after:
        current.setdefault(f.key, f)
    events = [Event(Change.RAISED, f, cycle, ts) for k, f in current.items() if k not in before]
    events += [Event(Change.CLEARED, f, cycle, ts) for k, f in before.items() if k not in current]
    return events, current
