"""Every lock worktree-tools takes, in the one order they nest, and RecordedLock, which records
who holds it.

The flock-based locks are `fcntl.flock`s (polled until a deadline), so a holder that dies frees
the lock at once. The lock file is never unlinked (that would split waiters across inodes). These
few lines replace filelock here, with its semantics (wait with a timeout, never unlink,
O_NOFOLLOW, a read-only lock file locked through a read-only descriptor): importing filelock cost
wt-commit ~8-20 ms of start-up per commit, more than the rest of the lock code together. Beside
the lock, `<lock>.json` names the holder (agent, pid, host, when, command) so that a waiter that
gives up can say who is in the way.

LOCK_ORDER below lists every lock, outermost first; docs/locks.md is the same table with the
reasons. Code that holds one lock takes only locks further down the list (never one above it),
so no two commands ever wait on each other in a circle. A test keeps the two lists equal.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sys
import time

from worktree_tools.core import atomic, fields, jsonline, times
from worktree_tools.core.errors import CorruptState, InvalidInput, LockTimeout
from worktree_tools.core.procs import HOST
from worktree_tools.core.statefiles import EVENTS_LOG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any

    StrPath = str | os.PathLike[str]

EVENTS_LOCK = EVENTS_LOG  # the event log is its own lock file (flock on the log)
POLL_SECONDS = 0.002
# The lock files, named once. Lock files are never unlinked (that would split waiters).
REPO_LOCK = "repo.lock"  # <common git dir>/wt/: the repository-wide mutation lock
ADMIN_LOCK = "worktree-admin.lock"  # <common git dir>/wt/: git worktree add/remove/prune/list
WORKTREE_LOCK = "wt-worktree.lock"  # <worktree git dir>/: held by wt-commit for a whole commit
HOOK_LOCK = "wt-hooks.lock"  # <worktree git dir>/: held while a commit hook runs
STASH_LOCK = "hook-stash.lock"  # <common git dir>/wt/: a live-worktree hook that uses the stash
AGENT_LOCKS = "agent-locks"  # <common git dir>/wt/agent-locks/AGENT.lock: one agent's records
LANDER_LOCK_SUFFIX = (
    ".lander.lock"  # <common git dir>/wt/land/QUEUE.lander.lock: one lander a queue
)
QUEUE_LOCK = "queue.lock"  # <common git dir>/wt/land/: the land queue's request files
INDEX_LOCK = "index.lock"  # <worktree git dir>/: git's own, taken the way git does (gitlocks)
TASKS_LOCK = "tasks.lock"  # <common git dir>/wt/: the task board's turns (tasks.store)


class LockSpec:
    """One row of the lock-order table."""

    __slots__ = ("held_for", "name", "where")

    def __init__(self, name: str, where: str, held_for: str) -> None:
        self.name = name
        self.where = where
        self.held_for = held_for


# Outermost first. Holding one, take only those below it. docs/locks.md mirrors this table.
LOCK_ORDER: tuple[LockSpec, ...] = (
    LockSpec("lander lock", f"<common git dir>/wt/land/QUEUE{LANDER_LOCK_SUFFIX}",
             "a lander draining one land queue (only tried, never waited for)"),
    LockSpec("agent lock", f"<common git dir>/wt/{AGENT_LOCKS}/AGENT.lock",
             "changes to one agent's worktree and record: alloc, renew, handoff, gc, move, env "
             "(several: name order)"),
    LockSpec("worktree lock", f"<worktree git dir>/{WORKTREE_LOCK}",
             "a whole wt-commit; gc and move only try it (never wait)"),
    LockSpec("hook lock", f"<worktree git dir>/{HOOK_LOCK}",
             "while one pre-commit hook runs (wt-commit, and the installed hook shim under "
             "plain git)"),
    LockSpec("hook stash lock", f"<common git dir>/wt/{STASH_LOCK}",
             "a hook that can use the repository's one stash (lint-staged, lefthook) running in a "
             "live worktree; repository-wide, taken under the hook lock"),
    LockSpec("worktree-admin lock", f"<common git dir>/wt/{ADMIN_LOCK}",
             "git worktree add/remove/prune/list (they fail when run concurrently)"),
    LockSpec("index lock", f"<worktree git dir>/{INDEX_LOCK}",
             "wt-commit preparing the new index (git's own lock file, O_EXCL)"),
    LockSpec("repository lock", f"<common git dir>/wt/{REPO_LOCK}",
             "read-check-write of records; putting the index in place and the ref move"),
    LockSpec("task board lock", f"<common git dir>/wt/{TASKS_LOCK}",
             "one read-decide-swap of the task board (agents of one machine take turns; the "
             "ref transaction decides)"),
    LockSpec("ref locks", "<common git dir>/REF.lock",
             "taken by git update-ref itself inside core.refs.move and core.refs.transaction"),
    LockSpec("land queue lock", f"<common git dir>/wt/land/{QUEUE_LOCK}",
             "read-check-write of land request files (only the event log is taken under it)"),
    LockSpec("event log", f"<common git dir>/wt/{EVENTS_LOCK}",
             "one appended line (flock on the log; nothing is taken under it)"),
    LockSpec("trust store lock", "$XDG_CONFIG_HOME/git-wt/trust.json.lock",
             "git wt env approve/revoke (per user; nothing is taken under it)"),
)  # fmt: skip
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


class Holder:
    """Who holds a lock: the `<lock>.json` record beside it."""

    __slots__ = ("acquired_at", "agent", "command", "host", "pid")

    def __init__(self, agent: str, pid: int, host: str, acquired_at: float, command: str) -> None:
        self.agent = agent
        self.pid = pid
        self.host = host
        self.acquired_at = acquired_at
        self.command = command

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.record().items())
        return f"Holder({shown})"

    def record(self) -> dict[str, Any]:
        """The `<lock>.json` record (`dataclasses.asdict` of the holder, as 0.1.0 wrote it)."""
        return {
            "agent": self.agent,
            "pid": self.pid,
            "host": self.host,
            "acquired_at": self.acquired_at,
            "command": self.command,
        }

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


def read_holder(lock_path: StrPath) -> Holder | None:
    """The holder record beside `lock_path`; None when there is none (the lock is free, or its
    holder has not written it yet); CorruptState when it cannot be read as one."""
    name = os.path.basename(os.fspath(lock_path).rstrip("/"))
    when = f"when nobody holds {name}, remove the record"
    return atomic.read_state(_record_path(lock_path), Holder.parse, when)


def _record_path(lock_path: StrPath) -> str:
    return os.fspath(lock_path).rstrip("/") + ".json"


_BUSY = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES})


def _flock(path: StrPath, deadline: float) -> int | None:
    """An open descriptor of `path` holding its exclusive flock, or None once `deadline` (a
    time.monotonic() value) has passed. The file is created if missing and never unlinked."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
    except PermissionError:  # a read-only lock file: flock works through a read-only descriptor
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError as exc:
                if exc.errno not in _BUSY:
                    raise
            if time.monotonic() >= deadline:
                os.close(fd)
                return None
            time.sleep(POLL_SECONDS)
    except BaseException:
        _close_quietly(fd)
        raise


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        return


class RecordedLock:
    """`with RecordedLock(path, "repository lock", holder, deadline):` — wait until `deadline`
    (a time.monotonic() value), then raise LockTimeout naming the holder. Take locks only in
    the order of LOCK_ORDER (docs/locks.md)."""

    def __init__(self, path: StrPath, what: str, holder: Holder, deadline: float) -> None:
        self.path = path
        self.what = what
        self.holder = holder
        self.deadline = deadline
        self.wait_ms = 0.0
        self.hold_ms = 0.0
        self._fd: int | None = None
        self._acquired = 0.0

    def __enter__(self) -> RecordedLock:
        os.makedirs(atomic.parent(self.path), exist_ok=True)
        start = time.monotonic()
        self._fd = _flock(self.path, self.deadline)
        if self._fd is None:
            self.wait_ms = (time.monotonic() - start) * 1000
            raise self._timeout_error() from None
        self._acquired = time.monotonic()
        self.wait_ms = (self._acquired - start) * 1000
        holder = Holder(
            self.holder.agent, self.holder.pid, self.holder.host, time.time(), self.holder.command
        )
        # No fsync: the record is advisory (the flock is the truth) and sits on the hot path.
        record = _record_path(self.path)
        atomic.write_text(record, jsonline.dumps(holder.record()), durable=False)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:  # noqa: SIM105 - contextlib costs the hot path start-up
            os.unlink(_record_path(self.path))
        except FileNotFoundError:
            pass
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
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
