"""The repository-wide lock and the per-worktree lock, each recording who holds it.

Both are `flock`s through filelock, so a holder that dies frees the lock at once. The lock file is
never unlinked (that would split waiters across inodes). Beside it, `<lock>.json` names the holder
(agent, pid, host, when, command) so that a waiter that gives up can say who is in the way.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from filelock import FileLock, Timeout

from worktree_tools.core import fields, times
from worktree_tools.core.errors import CorruptState, InvalidInput, LockTimeout
from worktree_tools.core.procs import HOST

POLL_SECONDS = 0.002
# The lock files, named once. Lock files are never unlinked (that would split waiters).
REPO_LOCK = "repo.lock"  # <common git dir>/wt/: the repository-wide mutation lock
ADMIN_LOCK = "worktree-admin.lock"  # <common git dir>/wt/: git worktree add/remove/prune/list
WORKTREE_LOCK = "wt-worktree.lock"  # <worktree git dir>/: held by wt-commit for a whole commit
HOOK_LOCK = "wt-hooks.lock"  # <worktree git dir>/: held while a commit hook runs
DEFAULT_TIMEOUT = 30.0
TIMEOUT_ENV = "WT_LOCK_TIMEOUT"


def lock_timeout(given: float | None, default: float = DEFAULT_TIMEOUT) -> float:
    """Seconds to wait for a lock: `given` (an option), else $WT_LOCK_TIMEOUT, else `default`.
    Not a number, or negative: InvalidInput (exit 2), never a traceback."""
    if given is None:
        text = os.environ.get(TIMEOUT_ENV)
        if text is None or not text.strip():
            return default
        try:
            given = float(text)
        except ValueError:
            raise InvalidInput(f"${TIMEOUT_ENV} is not a number of seconds: {text!r}") from None
        source = f"${TIMEOUT_ENV}"
    else:
        source = "--lock-timeout"
    try:
        return fields.bounded(given, f"{source} (seconds)", lo=0, hi=fields.MAX_WAIT)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


@dataclass(frozen=True)
class Holder:
    agent: str
    pid: int
    host: str
    acquired_at: float
    command: str

    @classmethod
    def me(cls, agent: str) -> Holder:
        argv = [os.path.basename(sys.argv[0]), *sys.argv[1:]]
        return cls(agent, os.getpid(), HOST, time.time(), " ".join(argv)[:300])

    @classmethod
    def parse(cls, raw: bytes | str) -> Holder:
        """From a `<lock>.json` record; FieldError (a ValueError) when it is not one."""
        data = fields.obj(fields.loads(raw))
        return cls(
            agent=fields.text(data, "agent"),
            pid=fields.integer(data, "pid", lo=1, hi=fields.MAX_PID),
            host=fields.text(data, "host"),
            acquired_at=fields.number(data, "acquired_at"),
            command=fields.text(data, "command"),
        )

    def output(self) -> dict[str, Any]:
        """The holder as JSON output shows it (the record file keeps epoch `acquired_at`)."""
        return {
            "agent": self.agent,
            "pid": self.pid,
            "host": self.host,
            "acquired_at": times.iso(self.acquired_at),
            "acquired_epoch": self.acquired_at,
            "command": self.command,
        }

    def describe(self, now: float) -> str:
        held = max(0.0, now - self.acquired_at)
        return (
            f"agent {self.agent!r} (pid {self.pid} on {self.host}, "
            f"held for {held:.1f}s, running: {self.command})"
        )


def read_holder(lock_path: Path) -> Holder | None:
    """The holder record beside `lock_path`; None when there is none (the lock is free, or its
    holder has not written it yet); CorruptState when it cannot be read as one."""
    record = _record_path(lock_path)
    try:
        raw = record.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CorruptState(os.fspath(record), exc.strerror or str(exc)) from None
    try:
        return Holder.parse(raw)
    except ValueError as exc:
        raise CorruptState(
            os.fspath(record),
            str(exc),
            fix=f"when nobody holds {lock_path.name}, remove the record: "
            f"rm {shlex.quote(os.fspath(record))}",
        ) from None


def _record_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + ".json")


class RecordedLock:
    """`with RecordedLock(path, "repository lock", holder, deadline):` — wait until `deadline`
    (a time.monotonic() value), then raise LockTimeout naming the holder."""

    def __init__(self, path: Path, what: str, holder: Holder, deadline: float) -> None:
        self.path = path
        self.what = what
        self.holder = holder
        self.deadline = deadline
        self.wait_ms = 0.0
        self.hold_ms = 0.0
        self._lock = FileLock(os.fspath(path))
        self._acquired = 0.0

    def __enter__(self) -> RecordedLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        try:
            self._lock.acquire(timeout=max(0.0, self.deadline - start), poll_interval=POLL_SECONDS)
        except Timeout:
            self.wait_ms = (time.monotonic() - start) * 1000
            raise self._timeout_error() from None
        self._acquired = time.monotonic()
        self.wait_ms = (self._acquired - start) * 1000
        holder = Holder(
            self.holder.agent, self.holder.pid, self.holder.host, time.time(), self.holder.command
        )
        # No fsync: the record is advisory (the flock is the truth) and sits on the hot path.
        record = _record_path(self.path)
        tmp = record.with_name(f"{record.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(holder)), encoding="utf-8")
        os.replace(tmp, record)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(FileNotFoundError):
            _record_path(self.path).unlink()
        self._lock.release()
        self.hold_ms = (time.monotonic() - self._acquired) * 1000

    def _timeout_error(self) -> LockTimeout:
        try:
            holder = read_holder(self.path)
            unreadable = None
        except CorruptState as err:
            holder, unreadable = None, err
        now = time.time()
        if unreadable is not None:
            who = f"a holder whose record is unreadable: {unreadable.message}"
        elif holder is None:
            who = "a holder that has not written its record yet"
        else:
            from worktree_tools.core.procs import alive_before

            who = holder.describe(now)
            if holder.host == HOST and not alive_before(holder.pid, holder.acquired_at):
                who += " [that process is gone; the lock was taken over by a new holder]"
        fix = "retry later"
        if holder is not None and holder.host == HOST:
            fix = f"retry later; if pid {holder.pid} is stuck, stop it: kill {holder.pid}"
        return LockTimeout(
            f"timed out waiting for the {self.what} ({self.path}); held by {who}",
            fix=fix,
            lock=os.fspath(self.path),
            holder=holder.output() if holder else None,
            lock_wait_ms=round(self.wait_ms, 3),
        )
