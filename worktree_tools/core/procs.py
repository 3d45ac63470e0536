"""Is a process alive? Judged by pid and start time together, so a reused pid is not the owner.

psutil is imported only when a question is actually asked: the commit hot path never asks.
Anything we cannot read counts as alive: a lock is judged stale only on proof.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    StrPath = str | os.PathLike[str]

# What socket.gethostname() returns, without importing socket on the commit hot path.
HOST = os.uname().nodename


def start_time(pid: int) -> float | None:
    """The process's start time (epoch seconds), or None when no such process exists."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None  # killed, not yet reaped by its parent: it holds and writes nothing
        return float(proc.create_time())
    except psutil.NoSuchProcess:
        return None
    except psutil.Error:
        return -1.0  # exists, unreadable


def alive(pid: int, started: float | None = None, *, host: str = HOST) -> bool:
    """True unless we can prove the process (pid started at `started`, on `host`) is gone."""
    if host != HOST:
        return True  # another machine: we cannot know; callers judge such owners by TTL
    if pid <= 0:
        return False
    actual = start_time(pid)
    if actual is None:
        return False
    if started is None or actual < 0:
        return True
    # psutil reports start times to ~10 ms (clock ticks); allow a little slack.
    return abs(actual - started) < 1.0


def alive_before(pid: int, moment: float) -> bool:
    """Whether `pid` is alive and already existed at `moment` (so it is not a reused pid)."""
    actual = start_time(pid)
    if actual is None:
        return False
    return actual < 0 or actual <= moment + 1.0


class ProcRef:
    """A live process found holding or using something."""

    __slots__ = ("cmdline", "name", "pid")

    def __init__(self, pid: int, name: str, cmdline: str) -> None:
        self.pid = pid
        self.name = name
        self.cmdline = cmdline

    def __repr__(self) -> str:
        return f"ProcRef(pid={self.pid!r}, name={self.name!r}, cmdline={self.cmdline!r})"

    def describe(self) -> str:
        return f"pid {self.pid} ({self.cmdline or self.name})"


def git_processes_in(
    dirs: Sequence[StrPath], lock_path: StrPath, exclude: Sequence[StrPath] = ()
) -> list[ProcRef]:
    """Live processes that may hold a git lock: those with it open, and git processes whose
    working directory is inside one of `dirs` (git chdirs to the worktree or git dir, and may
    keep a lock closed-but-held while hooks run) but not inside a more specific `exclude`
    directory (worktrees nested in another's tree, such as `<common git dir>/wt/trees/*`, hold
    their own locks). The caller and its ancestors (`git wt doctor` runs under git) never do."""
    import psutil

    me = psutil.Process()
    ours = {me.pid, *(p.pid for p in me.parents())}
    roots = [_slash(d) for d in dirs]
    skips = [_slash(d) for d in exclude]
    target = os.fspath(lock_path)
    found: list[ProcRef] = []
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        if proc.pid in ours:
            continue
        name = proc.info.get("name") or ""
        cmd = " ".join(proc.info.get("cmdline") or [])[:200]
        ref = ProcRef(proc.pid, name, cmd)
        try:
            if name == "git" or name.startswith("git-"):
                cwd = _slash(proc.cwd())
                root = max((len(r) for r in roots if cwd.startswith(r)), default=0)
                skip = max((len(x) for x in skips if cwd.startswith(x)), default=0)
                if root and skip <= root:
                    found.append(ref)
                    continue
            if any(f.path == target for f in proc.open_files()):
                found.append(ref)
        except psutil.NoSuchProcess:
            continue
        except psutil.Error:
            if name == "git" or name.startswith("git-"):
                found.append(ref)  # unreadable git process: counts as a holder
    return found


def _slash(path: StrPath) -> str:
    return os.fspath(path).rstrip("/") + "/"


def processes_in(root: StrPath) -> list[ProcRef]:
    """Live processes (but this one) whose working directory, root or an open file or
    directory is `root` or inside it: they may still write there, whatever its name becomes.
    Another user's processes cannot be read and are not counted."""
    import psutil

    top = os.path.realpath(root).rstrip("/")  # the kernel reports resolved paths
    inside = top + "/"
    found: list[ProcRef] = []
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        if proc.pid == os.getpid():
            continue
        try:
            paths = [proc.cwd()]
            fds = f"/proc/{proc.pid}/fd"
            if os.path.isdir(fds):
                paths.append(os.readlink(f"/proc/{proc.pid}/root"))
                for fd in os.listdir(fds):
                    try:
                        paths.append(os.readlink(f"{fds}/{fd}"))
                    except OSError:
                        continue
            else:
                paths += [f.path for f in proc.open_files()]
        except (psutil.Error, OSError):
            continue
        if any(p == top or p.startswith(inside) for p in paths):
            cmd = " ".join(proc.info.get("cmdline") or [])[:200]
            found.append(ProcRef(proc.pid, proc.info.get("name") or "", cmd))
    return found
