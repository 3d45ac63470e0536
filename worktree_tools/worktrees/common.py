"""What every worktree command needs: the repository, its locks, its configuration.

Locks are taken in the one order of `core.locks.LOCK_ORDER` (docs/locks.md): agent lock ->
a worktree's wt-commit lock -> worktree-admin lock -> repository lock. The repository lock is
held only to read-check-write records; `git worktree add/remove/prune` run under the admin lock,
because concurrent `git worktree add`s read each other's half-made metadata and fail
("failed to read .git/worktrees/X/commondir").
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from worktree_tools.core import fields
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.locks import ADMIN_LOCK, AGENT_LOCKS, REPO_LOCK, Holder, RecordedLock
from worktree_tools.core.locks import lock_timeout as resolve_timeout
from worktree_tools.core.repo import Worktree, discover
from worktree_tools.worktrees.records import Record, check_ttl

DEFAULT_TTL = 3600.0
DEFAULT_BRANCH_PREFIX = "wt/"


@dataclass(frozen=True)
class Repo:
    """The repository as seen from the worktree a command was run in."""

    wt: Worktree
    actor: str
    lock_timeout: float

    @property
    def state_dir(self) -> Path:
        return self.wt.state_dir

    @property
    def commondir(self) -> Path:
        return self.wt.commondir

    def deadline(self) -> float:
        return time.monotonic() + self.lock_timeout

    def config(self, key: str) -> str | None:
        res = self.wt.git(["config", "--get", key], check=False)
        return res.out.strip() if res.returncode == 0 else None

    def default_ttl(self) -> float:
        raw = self.config("wt.leaseTtl")
        if raw is None:
            return DEFAULT_TTL
        try:
            return check_ttl(float(raw), "wt.leaseTtl")
        except ValueError:
            raise InvalidInput(
                f"wt.leaseTtl must be more than 0 and at most {fields.MAX_TTL:g} seconds, "
                f"not {raw!r}",
                fix="git config wt.leaseTtl 3600",
            ) from None

    def branch_prefix(self) -> str:
        return self.config("wt.branchPrefix") or DEFAULT_BRANCH_PREFIX

    def placement(self) -> Path:
        """Where new worktrees go: `wt.worktreeDir` (relative to the main worktree, or
        absolute), else `../REPO.worktrees` beside the main worktree (see placement.py)."""
        from worktree_tools.worktrees import placement

        return placement.resolve(self.commondir, self.config(placement.CONFIG_KEY))

    def tree(self, rec: Record) -> Worktree:
        """The recorded worktree, for running git inside it with an explicit environment."""
        return Worktree(
            toplevel=Path(rec.path),
            gitdir=Path(rec.admin_dir),
            commondir=self.commondir,
            hooks_dir=self.wt.hooks_dir,
        )

    # ---- locks ----------------------------------------------------------------------------

    def repo_lock(self) -> RecordedLock:
        return RecordedLock(
            self.state_dir / REPO_LOCK, "repository lock", Holder.me(self.actor), self.deadline()
        )

    def admin_lock(self) -> RecordedLock:
        return RecordedLock(
            self.state_dir / ADMIN_LOCK,
            "worktree-admin lock",
            Holder.me(self.actor),
            self.deadline(),
        )

    def agent_lock(self, agent: str, *, wait: bool = True) -> RecordedLock:
        # Lock files live apart from the records and are never deleted (that would split
        # waiters across inodes).
        return RecordedLock(
            self.state_dir / AGENT_LOCKS / f"{agent}.lock",
            f"lock of agent {agent!r}",
            Holder.me(self.actor),
            self.deadline() if wait else time.monotonic(),
        )

    @contextlib.contextmanager
    def agent_locks(self, *agents: str) -> Iterator[None]:
        """Several agents' locks, always taken in name order."""
        with contextlib.ExitStack() as stack:
            for name in sorted(set(agents)):
                stack.enter_context(self.agent_lock(name))
            yield


def open_repo(cwd: Path, actor: str | None = None, lock_timeout: float | None = None) -> Repo:
    wt = discover(cwd)
    lock_timeout = resolve_timeout(lock_timeout)
    return Repo(
        wt=wt, actor=actor or os.environ.get("WT_AGENT") or "git-wt", lock_timeout=lock_timeout
    )
