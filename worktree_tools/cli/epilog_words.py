"""The state and kind words that commands print, with one line of meaning each, for `--help`.

Every list is generated from the Enum the code uses (imported only when help is shown), so a
word the code gains shows in the help at once; its meaning is keyed by the Enum member, and the
tests fail while a member has none (tests/cli/test_epilogs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class WordList:
    """One section of words: every member of `enum` in its order, then `extra` words that are
    printed beside the Enum's (such as `unmanaged` in the LEASE column)."""

    title: str
    enum: type[Enum] | None  # None: words the code still writes as strings (keys of meanings)
    meanings: dict[Any, str]
    extra: tuple[tuple[str, str], ...] = ()

    def rows(self) -> list[tuple[str, str]]:
        if self.enum is None:
            words = [(str(k), v) for k, v in self.meanings.items()]
        else:
            words = [(str(m.value), self.meanings.get(m, "")) for m in self.enum]
        return words + list(self.extra)


def lease(extra: bool = False) -> WordList:
    from worktree_tools.worktrees.records import LeaseState as S

    return WordList(
        "Lease states" + (" (LEASE)" if extra else ""),
        S,
        {
            S.ACTIVE: "declared active; heartbeat within the TTL, owner alive or untracked",
            S.EXPIRED: "no heartbeat within the TTL (gc removes it unless the owner is alive)",
            S.OWNER_DEAD: "the owner process (pid + start time) is gone on this host",
            S.RELEASED: "released as done (gc removes it) or handoff (kept for adoption)",
            S.BLOCKED: "released as blocked: waiting on a human (gc keeps it)",
        },
        (
            ("unmanaged", "a worktree git wt did not create (no ownership record)"),
            ("corrupt", "its ownership record cannot be read (exit 2; see git wt doctor)"),
        )
        if extra
        else (),
    )


def declared() -> WordList:
    from worktree_tools.worktrees.records import RecordState as S

    return WordList(
        "Declared states (what the owner said; release --state)",
        S,
        {
            S.ACTIVE: "allocated and in use",
            S.DONE: "finished: gc may remove the worktree",
            S.HANDOFF: "left for another agent to adopt",
            S.BLOCKED: "waiting on a human (the blockers say on what)",
        },
    )


def gc_actions() -> WordList:
    from worktree_tools.worktrees.gcaction import GcAction as S

    return WordList(
        "Actions (per worktree)",
        S,
        {
            S.REMOVED: "removed, its work saved in a rescue ref first",
            S.WOULD_REMOVE: "--dry-run: a real run would remove it",
            S.KEPT: "left in place (live, blocked, handed off or moved by hand)",
            S.SKIPPED: "busy: a wt-commit, git or a live process works in it (exit 3)",
            S.FAILED: "its work could not be saved, so it was kept (exit 1)",
            S.RESTORED: "a leftover of a killed gc put back where it was",
        },
    )


def branch_actions() -> WordList:
    from worktree_tools.worktrees.gcaction import BranchAction as S

    return WordList(
        "Branch actions (of a removed worktree's branch)",
        S,
        {
            S.DELETED: "deleted: its commits are in the target or the rescue ref",
            S.WOULD_DELETE: "--dry-run: a real run would delete it",
            S.KEPT: "kept: it has work found nowhere else",
        },
    )


def slot_states() -> WordList:
    from worktree_tools.hooks.slots import SlotState as S

    return WordList(
        "Hook slot states",
        S,
        {
            S.ABSENT: "no hook there",
            S.INSTALLED: "the worktree-tools shim, chaining the hook that was there",
            S.FOREIGN: "another manager's hook (a script): install chains it",
            S.UNKNOWN: "a hook install will not move without --chain-unknown",
            S.BYPASSED: "a manager's reinstall replaced or moved the shim (repair: hooks install)",
        },
    )


def finding_kinds() -> WordList:
    from worktree_tools.health.findings import Kind as S

    return WordList(
        "Finding kinds",
        S,
        {
            S.LEASE_EXPIRED: "a worktree's lease had no heartbeat within its TTL",
            S.OWNER_DEAD: "a worktree's owner process is gone on this host",
            S.LOCK_HELD_LONG: "a lock held past --lock-threshold by a live process",
            S.STALE_GIT_LOCK: "a git lock file no live process can hold (doctor --fix removes it)",
            S.BLOCKED: "a worktree released as blocked: waiting on a person",
            S.JOURNAL_VIOLATION: "a commit on a branch breaks the append-only journal rules",
            S.STRANDED_PATCH: "a pre-commit patch of unstaged work that was never restored",
            S.ORPHAN_HOOK: "hook processes of a killed wt-commit",
            S.LEAKED_CONFIG: "core.worktree or an identity leaked into the shared config",
            S.CORRUPT_RECORD: "an ownership record that cannot be read",
            S.LAND_QUEUED: "a land request waiting or landing",
            S.LAND_STUCK: "a land request whose lander died, or queued with no lander",
            S.LAND_HANDED_BACK: "a branch the queue handed back (conflict or check_failed)",
            S.HOOKS_BYPASSED: "a hook manager's reinstall replaced or moved the shim",
            S.HOOK_STASH_LEFTOVER: "a lint-staged or lefthook backup left in the shared stash",
            S.TASK_OWNER_DEAD: "a claimed task's owner is gone",
            S.TASK_CLAIM_EXPIRED: "a task claim not renewed within its TTL",
            S.TASK_BLOCKED_LONG: "a task blocked on a human past --task-blocked-after",
            S.TASK_IDLE: "a claimed task with no commit past --task-idle-after",
            S.TASK_CORRUPT: "a task file or claim record that cannot be read",
            S.DISK_OVER_BUDGET: "the worktrees use more disk than wt.gc.maxDisk",
            S.GC_LEFTOVER: "a directory gc left beside a removed worktree (still written to)",
        },
    )


def changes() -> WordList:
    from worktree_tools.health.findings import Change as S

    return WordList(
        "Event changes",
        S,
        {S.RAISED: "the finding appeared", S.CLEARED: "the finding went away"},
    )


def doctor_kinds() -> WordList:
    from worktree_tools.health.doctor import DoctorKind as S

    return WordList(
        "Finding kinds",
        S,
        {
            S.STALE_LOCK: "a lock no live process holds (--fix removes it)",
            S.LIVE_LOCK: "a lock a live process holds (reported, left alone)",
            S.STRANDED_PATCH: "a pre-commit patch of unstaged work never restored (--fix)",
            S.LEAKED_CONFIG: "core.worktree or an identity in the shared config (--fix)",
            S.ORPHAN_HOOK: "hook processes of a killed wt-commit, proven its own (--fix ends them)",
            S.ORPHAN_HOOK_UNPROVEN: "a hook record whose processes are not proven the hook's",
            S.HOOKS_BYPASSED: "a manager's reinstall replaced or moved the shim (--fix)",
            S.HOOK_STASH_LEFTOVER: "a hook manager's backup left in the shared stash",
            S.GC_LEFTOVER: "a directory gc left beside a removed worktree (run gc later)",
            S.CORRUPT_RECORD: "an ownership record that cannot be read",
        },
    )


def hook_actions() -> WordList:
    from worktree_tools.hooks.install import HookAction as S

    return WordList(
        "Actions (per hook)",
        S,
        {
            S.INSTALLED: "the shim is in place (nothing was there)",
            S.CHAINED: "the shim is in place and runs the hook that was there",
            S.REPAIRED: "a manager's reinstall undone: its new hook chained",
            S.ALREADY: "the shim was in place already",
            S.RESTORED: "the shim removed and the hook it chained put back",
            S.REMOVED: "the shim removed (nothing was chained), or an unused shim",
            S.ABSENT: "no shim of ours there",
        },
    )


def land_states() -> WordList:
    from worktree_tools.land.requests import State as S

    return WordList(
        "Request states",
        S,
        {
            S.QUEUED: "waiting in the queue of its target",
            S.LANDING: "a lander is integrating and checking it",
            S.LANDED: "the target has the branch's work (exit 0)",
            S.UNCHANGED: "the work was already in the target (exit 0)",
            S.CONFLICT: "the branch does not apply on the target; handed back (exit 4)",
            S.CHECK_FAILED: "the check failed on the integrated tree; handed back (exit 5)",
            S.CANCELLED: "cancelled with --cancel (exit 0)",
        },
    )


def remote_lease_states() -> WordList:
    from worktree_tools.remote.records import RemoteLeaseState as S

    return WordList(
        "Lease states",
        S,
        {
            S.FREE: "never acquired",
            S.HELD: "acquired and renewed within its TTL",
            S.EXPIRED: "not renewed within its TTL: anyone may take it over",
            S.RELEASED: "released by its holder (the next holder gets token + 1)",
            S.CORRUPT: "the ref names something that is not a lease record",
        },
    )


def sync_states() -> WordList:
    from worktree_tools.remote.sync import SyncState as S

    return WordList(
        "States (per worktree; only fast_forwarded touches it)",
        S,
        {
            S.UP_TO_DATE: "the local branch is the remote branch",
            S.FAST_FORWARDED: "was behind; branch, index and files moved to the remote tip",
            S.AHEAD: "local commits the remote lacks (push them)",
            S.DIVERGED: "both sides have their own commits (exit 7)",
            S.DIRTY: "behind, with uncommitted changes to tracked files (exit 7)",
            S.BLOCKED: "git refused to write a file, e.g. an untracked one in the way (exit 7)",
            S.DETACHED: "HEAD is not on a branch (exit 7)",
            S.NO_REMOTE_BRANCH: "the remote has no branch of that name",
        },
    )


def task_states() -> WordList:
    from worktree_tools.tasks.model import TaskState as S

    return WordList(
        "Task states",
        S,
        {
            S.OPEN: "waiting for an agent",
            S.CLAIMED: "an agent holds it, with a lease and a fencing token",
            S.BLOCKED: "out of next's reach: blocked on a human or on another task",
            S.DONE: "finished",
            S.CANCELLED: "will not be done (edit --reopen undoes)",
        },
    )


def trust_states() -> WordList:
    from worktree_tools.env.trust import Trust as S

    return WordList(
        "Trust states",
        S,
        {
            S.NONE: "the .wtconfig has no setup or teardown commands",
            S.TRUSTED: "this exact file was approved on this machine",
            S.UNTRUSTED: "never approved: its commands do not run",
            S.CHANGED: "approved once, changed since: approve it again",
        },
    )


WORD_LISTS: dict[str, Callable[[], WordList]] = {
    "lease": lease,
    "lease_column": lambda: lease(extra=True),
    "declared": declared,
    "gc_actions": gc_actions,
    "branch_actions": branch_actions,
    "slot_states": slot_states,
    "finding_kinds": finding_kinds,
    "changes": changes,
    "doctor_kinds": doctor_kinds,
    "hook_actions": hook_actions,
    "land_states": land_states,
    "remote_lease_states": remote_lease_states,
    "sync_states": sync_states,
    "task_states": task_states,
    "trust_states": trust_states,
}
