"""Git's own lock files (`index.lock`, `refs/heads/x.lock`): take them, wait on them, and remove
one only after proving that no live process holds it.

Git never retries the index lock and a holder killed with SIGKILL leaves its lock forever, so a
careful tool must tell a stale lock from a busy one. Locks we create carry a JSON marker naming
our pid, which is proof enough; for git's own we scan processes (psutil) and require an age.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from worktree_tools.core import fields, times
from worktree_tools.core.errors import LockTimeout
from worktree_tools.core.procs import HOST

MARKER_TOOL = "worktree-tools"
# A git lock younger than this is presumed busy: its holder may be a process just starting.
STALE_GRACE_SECONDS = 2.0

StaleReport = Callable[[dict[str, Any]], None]


def _marker() -> bytes:
    return json.dumps(
        {"tool": MARKER_TOOL, "pid": os.getpid(), "host": HOST, "created": time.time()}
    ).encode()


@dataclass(frozen=True)
class Marker:
    """What a lock we created says about its creator."""

    pid: int
    host: str
    created: float

    @classmethod
    def parse(cls, raw: bytes) -> Marker | None:
        """None when `raw` is no worktree-tools marker (git's own lock: an index, a ref);
        FieldError when it claims to be one but its fields are not valid."""
        try:
            data = fields.loads(raw)
        except ValueError:
            if MARKER_TOOL.encode() in raw:  # ours, but not JSON (NaN, cut short): corrupt
                raise
            return None
        if not isinstance(data, dict) or data.get("tool") != MARKER_TOOL:
            return None
        return cls(
            pid=fields.integer(data, "pid", lo=1, hi=fields.MAX_PID),
            host=fields.text(data, "host"),
            created=fields.number(data, "created"),
        )


def _read_marker(lock_path: Path) -> Marker | str | None:
    """The marker; None for a lock without one; a string saying why a marker is corrupt."""
    try:
        raw = lock_path.read_bytes()[:4096]
    except OSError:
        return None
    try:
        return Marker.parse(raw)
    except ValueError as exc:
        return str(exc)


def holders(
    lock_path: Path, search_dirs: list[Path], exclude: Sequence[Path] = ()
) -> tuple[bool, str]:
    """(possibly_held, description). False only on proof that nobody holds the lock."""
    try:
        age = time.time() - lock_path.stat().st_mtime
    except FileNotFoundError:
        return False, "gone"
    marker = _read_marker(lock_path)
    if isinstance(marker, str):
        # Unreadable counts as alive: a person must look (we never write such a marker).
        return True, (
            f"an unknown process: its worktree-tools marker is corrupt ({marker}); "
            f"if no git or wt-commit is running there, remove it: rm {shlex.quote(str(lock_path))}"
        )
    if marker is not None:
        from worktree_tools.core.procs import alive_before

        pid, host = marker.pid, marker.host
        if host != HOST:
            return True, f"worktree-tools pid {pid} on host {host}"
        if alive_before(pid, marker.created):
            return True, f"worktree-tools pid {pid}"
        return False, f"worktree-tools pid {pid}, which is gone"
    from worktree_tools.core.procs import git_processes_in

    procs = git_processes_in(search_dirs, lock_path, exclude)
    if procs:
        return True, ", ".join(p.describe() for p in procs[:3])
    if age < STALE_GRACE_SECONDS:
        return True, f"a process that created it {age:.1f}s ago"
    return False, f"no live process (lock is {age:.0f}s old)"


def remove_if_stale(
    lock_path: Path, search_dirs: list[Path], report: StaleReport, exclude: Sequence[Path] = ()
) -> bool:
    """Remove `lock_path` if (and only if) no live process can hold it. True if it is gone.

    The file judged must be the file removed: it is renamed aside first (atomic), and if what
    was renamed is not the judged inode (someone replaced the lock meanwhile), it is put back."""
    try:
        before = lock_path.stat()
    except FileNotFoundError:
        return True
    held, who = holders(lock_path, search_dirs, exclude)
    if held:
        return False
    aside = lock_path.with_name(f"{lock_path.name}.stale-{os.getpid()}")
    try:
        os.rename(lock_path, aside)
    except FileNotFoundError:
        return True
    moved = aside.stat()
    if (moved.st_ino, moved.st_mtime_ns) != (before.st_ino, before.st_mtime_ns):
        with contextlib.suppress(FileExistsError):  # a newer lock already stands there
            os.link(aside, lock_path)  # a live lock: put it back
        aside.unlink()
        return False
    aside.unlink()
    report(
        {"lock": os.fspath(lock_path), "size": before.st_size, "mtime": times.iso(before.st_mtime),
         "mtime_epoch": before.st_mtime, "why": who}
    )  # fmt: skip
    return True


def wait_until_free(
    lock_path: Path,
    search_dirs: list[Path],
    deadline: float,
    report: StaleReport,
    exclude: Sequence[Path] = (),
) -> None:
    """Wait for someone else's git lock to go away (removing it if proven stale)."""
    delay = 0.002
    while lock_path.exists():
        if remove_if_stale(lock_path, search_dirs, report, exclude):
            continue
        if time.monotonic() >= deadline:
            _, who = holders(lock_path, search_dirs, exclude)
            raise LockTimeout(
                f"timed out waiting for {lock_path} held by {who}",
                fix="wait for that git process to finish; `git wt doctor` lists stale locks",
                lock=os.fspath(lock_path),
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


class GitFileLock:
    """Hold git's `<target>.lock` the way git does (O_EXCL create), so git and libgit2 keep out.

    While it is held the caller may `os.replace` a finished file over the target; the lock is
    released on exit (unlinked only if it is still the file we created)."""

    def __init__(
        self,
        target: Path,
        search_dirs: list[Path],
        deadline: float,
        report: StaleReport,
        exclude: Sequence[Path] = (),
    ) -> None:
        self.target = target
        self.lock_path = target.with_name(target.name + ".lock")
        self.search_dirs = search_dirs
        self.exclude = exclude
        self.deadline = deadline
        self.report = report
        self._ino: int | None = None

    def __enter__(self) -> GitFileLock:
        while True:
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
            except FileExistsError:
                wait_until_free(
                    self.lock_path, self.search_dirs, self.deadline, self.report, self.exclude
                )
                continue
            try:
                os.write(fd, _marker())
                self._ino = os.fstat(fd).st_ino
            finally:
                os.close(fd)
            return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if os.stat(self.lock_path).st_ino == self._ino:
                os.unlink(self.lock_path)
        except FileNotFoundError:
            pass
