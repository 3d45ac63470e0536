"""What wt-commit is asked to do (CommitRequest) and what it did (CommitResult): the values
commit/run takes and returns, and the JSON object of a committed or unchanged run.
Split from commit/run.py (move only)."""

from __future__ import annotations

import os

from worktree_tools.core.errors import Outcome

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from worktree_tools.commit.swap import Landing


class CommitRequest:
    """What to commit, and how. (A class with slots, not a dataclass: `dataclasses` costs
    every commit ~19 ms of start-up; issue 17.)"""

    __slots__ = (
        "agent", "cwd", "hooks", "lock_timeout", "message_file", "messages", "no_verify",
        "paths", "revalidate", "sign", "whole_tree",
    )  # fmt: skip

    def __init__(
        self,
        paths: tuple[str, ...],
        cwd: str | os.PathLike[str],
        messages: tuple[str, ...] = (),
        message_file: str | None = None,
        agent: str | None = None,
        lock_timeout: float = 30.0,
        no_verify: bool = False,
        whole_tree: bool = False,
        sign: str | None = None,
        hooks: str | None = None,
        revalidate: bool = False,
    ) -> None:
        self.paths = paths
        self.cwd = cwd
        self.messages = messages
        self.message_file = message_file
        self.agent = agent
        self.lock_timeout = lock_timeout
        self.no_verify = no_verify
        self.whole_tree = whole_tree
        self.sign = sign  # None: as configured; "": default key; "KEY"; "no": never
        self.hooks = hooks  # auto | isolated | in-place; None: config wt.hooks, else auto
        self.revalidate = revalidate  # re-run pre-commit when replayed on a moved branch


class CommitResult:
    """What a commit did (to_json: the object `wt-commit --json` prints)."""

    __slots__ = (
        "agent", "branch", "commit", "duration_ms", "hook_mode", "lock_hold_ms",
        "lock_wait_ms", "outcome", "parent", "paths", "replays", "warnings",
        "worktree_lock_wait_ms",
    )  # fmt: skip

    def __init__(
        self,
        outcome: Outcome,
        agent: str,
        branch: str | None = None,
        commit: str | None = None,
        parent: str | None = None,
        paths: list[str] | None = None,
        lock_wait_ms: float = 0.0,
        lock_hold_ms: float = 0.0,
        worktree_lock_wait_ms: float = 0.0,
        duration_ms: float = 0.0,
        replays: int = 0,
        hook_mode: str | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self.outcome = outcome
        self.agent = agent
        self.branch = branch
        self.commit = commit
        self.parent = parent
        self.paths: list[str] = [] if paths is None else paths
        self.lock_wait_ms = lock_wait_ms
        self.lock_hold_ms = lock_hold_ms
        self.worktree_lock_wait_ms = worktree_lock_wait_ms
        self.duration_ms = duration_ms
        self.replays = replays
        self.hook_mode = hook_mode
        self.warnings: list[str] = [] if warnings is None else warnings

    def add_landing(self, landing: Landing) -> None:
        self.lock_wait_ms += landing.wait_ms
        self.lock_hold_ms += landing.hold_ms

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "commit": self.commit,
            "parent": self.parent,
            "branch": self.branch,
            "paths": self.paths,
            "agent": self.agent,
            "lock_wait_ms": round(self.lock_wait_ms, 3),
            "lock_hold_ms": round(self.lock_hold_ms, 3),
            "worktree_lock_wait_ms": round(self.worktree_lock_wait_ms, 3),
            "duration_ms": round(self.duration_ms, 3),
            "replays": self.replays,
            "hook_mode": self.hook_mode,
            "warnings": self.warnings,
            "error": None,
            "fix": None,
        }
