"""Git's own lock files (`index.lock`, `refs/heads/x.lock`): take them, wait on them, and remove
one only after proving that no live process holds it.

Git never retries the index lock and a holder killed with SIGKILL leaves its lock forever, so a
careful tool must tell a stale lock from a busy one. Locks we create carry a JSON marker naming
our pid, which is proof enough; for git's own we scan processes (psutil) and require an age.
"""

from __future__ import annotations

import os
import time

from worktree_tools.core import fields, jsonline, times
from worktree_tools.core.errors import LockTimeout
from worktree_tools.core.procs import HOST

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import TracebackType
    from typing import Any

    StrPath = str | os.PathLike[str]
    StaleReport = Callable[[dict[str, Any]], None]
else:
    StaleReport = "Callable[[dict[str, Any]], None]"  # importers use it in annotations only

MARKER_TOOL = "worktree-tools"
# A git lock younger than this is presumed busy: its holder may be a process just starting.
STALE_GRACE_SECONDS = 2.0


def _marker() -> bytes:
    return jsonline.dumps(
        {"tool": MARKER_TOOL, "pid": os.getpid(), "host": HOST, "created": time.time()}
    ).encode()


class Marker:
    """What a lock we created says about its creator."""

    __slots__ = ("created", "host", "pid")

    def __init__(self, pid: int, host: str, created: float) -> None:
        self.pid = pid
        self.host = host
        self.created = created

    def __repr__(self) -> str:
        return f"Marker(pid={self.pid!r}, host={self.host!r}, created={self.created!r})"

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


def _read_marker(lock_path: StrPath) -> Marker | str | None:
    """The marker; None for a lock without one; a string saying why a marker is corrupt."""
    try:
        with open(lock_path, "rb") as fh:
            raw = fh.read()[:4096]
    except OSError:
        return None
    try:
        return Marker.parse(raw)
    except ValueError as exc:
        return str(exc)


def holders(
    lock_path: StrPath, search_dirs: Sequence[StrPath], exclude: Sequence[StrPath] = ()
) -> tuple[bool, str]:
    """(possibly_held, description). False only on proof that nobody holds the lock."""
    try:
        age = time.time() - os.stat(lock_path).st_mtime
    except FileNotFoundError:
        return False, "gone"
    marker = _read_marker(lock_path)
    if isinstance(marker, str):
        import shlex

        # Unreadable counts as alive: a person must look (we never write such a marker).
        quoted = shlex.quote(os.fspath(lock_path))
        return True, (
            f"an unknown process: its worktree-tools marker is corrupt ({marker}); "
            f"if no git or wt-commit is running there, remove it: rm {quoted}"
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
    lock_path: StrPath,
    search_dirs: Sequence[StrPath],
    report: StaleReport,
    exclude: Sequence[StrPath] = (),
) -> bool:
    """Remove `lock_path` if (and only if) no live process can hold it. True if it is gone.

    The file judged must be the file removed: it is renamed aside first (atomic), and if what
    was renamed is not the judged inode (someone replaced the lock meanwhile), it is put back."""
    try:
        before = os.stat(lock_path)
    except FileNotFoundError:
        return True
    held, who = holders(lock_path, search_dirs, exclude)
    if held:
        return False
    aside = f"{os.fspath(lock_path).rstrip('/')}.stale-{os.getpid()}"
    try:
        os.rename(lock_path, aside)
    except FileNotFoundError:
        return True
    moved = os.stat(aside)
    if (moved.st_ino, moved.st_mtime_ns) != (before.st_ino, before.st_mtime_ns):
        try:  # noqa: SIM105 - contextlib costs the hot path start-up
            os.link(aside, lock_path)  # a live lock: put it back
        except FileExistsError:  # a newer lock already stands there
            pass
        os.unlink(aside)
        return False
    os.unlink(aside)
    report(
        {"lock": os.fspath(lock_path), "size": before.st_size, "mtime": times.iso(before.st_mtime),
         "mtime_epoch": before.st_mtime, "why": who}
    )  # fmt: skip
    return True


def wait_until_free(
    lock_path: StrPath,
    search_dirs: Sequence[StrPath],
    deadline: float,
    report: StaleReport,
    exclude: Sequence[StrPath] = (),
) -> None:
    """Wait for someone else's git lock to go away (removing it if proven stale)."""
    delay = 0.002
    while os.path.exists(lock_path):
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
        target: StrPath,
        search_dirs: Sequence[StrPath],
        deadline: float,
        report: StaleReport,
        exclude: Sequence[StrPath] = (),
    ) -> None:
        self.target = target
        self.lock_path = os.fspath(target).rstrip("/") + ".lock"
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
