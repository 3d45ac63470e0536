"""Is a process alive? Judged by pid and start time together, so a reused pid is not the owner.

psutil is imported only when a question is actually asked: the commit hot path never asks.
Anything we cannot read counts as alive: a lock is judged stale only on proof.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# What socket.gethostname() returns, without importing socket on the commit hot path.
HOST = os.uname().nodename


def start_time(pid: int) -> float | None:
    """The process's start time (epoch seconds), or None when no such process exists."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
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


@dataclass(frozen=True)
class ProcRef:
    pid: int
    name: str
    cmdline: str

    def describe(self) -> str:
        return f"pid {self.pid} ({self.cmdline or self.name})"


def git_processes_in(dirs: list[Path], lock_path: Path) -> list[ProcRef]:
    """Live processes that may hold a git lock: those with it open, and git processes whose
    working directory is inside one of `dirs` (git chdirs to the worktree or git dir, and may
    keep a lock closed-but-held while hooks run)."""
    import psutil

    me = os.getpid()
    roots = [os.fspath(d).rstrip("/") + "/" for d in dirs]
    target = os.fspath(lock_path)
    found: list[ProcRef] = []
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        if proc.pid == me:
            continue
        name = proc.info.get("name") or ""
        cmd = " ".join(proc.info.get("cmdline") or [])[:200]
        ref = ProcRef(proc.pid, name, cmd)
        try:
            if name == "git" or name.startswith("git-"):
                cwd = proc.cwd().rstrip("/") + "/"
                if any(cwd.startswith(r) for r in roots):
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
