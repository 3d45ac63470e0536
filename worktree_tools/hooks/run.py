"""Run a repository hook as `git commit` would: stdin closed, output sent to our stderr (and
kept, so a failure can be reported).

Each hook runs in a process group of its own, recorded in `<git dir>/wt-hooks.json` while it
runs. If wt-commit is killed mid-hook, the record survives and names the orphaned group; the next
commit in that worktree (holding the worktree lock the dead one held) ends it before reusing the
hook checkout, and `git wt doctor` reports it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from worktree_tools.core import atomic, fields

KEEP_OUTPUT_BYTES = 64 * 1024
COMMIT_HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg")


@dataclass(frozen=True)
class HookRun:
    name: str
    returncode: int
    output: str


def find(hooks_dir: Path, name: str) -> Path | None:
    path = hooks_dir / name
    if path.is_file() and os.access(path, os.X_OK):
        return path
    return None


def run(
    hooks_dir: Path,
    name: str,
    args: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    record: Path | None = None,
) -> HookRun | None:
    """Run hook `name` if it exists and is executable; None when there is no such hook."""
    path = find(hooks_dir, name)
    if path is None:
        return None
    proc = subprocess.Popen(
        [os.fspath(path), *args],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if record is not None:
        _write_record(record, name, proc.pid, cwd)
    assert proc.stdout is not None
    kept = bytearray()
    sink = sys.stderr.buffer
    try:
        while chunk := os.read(proc.stdout.fileno(), 65536):
            sink.write(chunk)
            sink.flush()
            kept += chunk
            if len(kept) > KEEP_OUTPUT_BYTES:
                del kept[: len(kept) - KEEP_OUTPUT_BYTES]
        returncode = proc.wait()
    except BaseException:
        # Interrupted: the hook is in its own group, so end the group with us.
        _kill_group(proc.pid)
        proc.wait()
        raise
    finally:
        proc.stdout.close()
        if record is not None:
            record.unlink(missing_ok=True)
    return HookRun(name, returncode, kept.decode("utf-8", "replace"))


def _write_record(record: Path, name: str, pgid: int, cwd: Path) -> None:
    data = {"pid": os.getpid(), "pgid": pgid, "hook": name, "cwd": os.fspath(cwd),
            "started": time.time()}  # fmt: skip
    atomic.write_text(record, json.dumps(data), durable=False)


def _kill_group(pgid: int, sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@dataclass(frozen=True)
class Orphans:
    hook: str
    pgid: int
    pids: list[int]
    committer_pid: int


def find_orphans(record: Path) -> Orphans | None:
    """Hook processes left by a wt-commit that died mid-hook. None when the record is absent or
    unreadable, or its committer is still alive (then its hook is no orphan)."""
    try:
        data = fields.obj(fields.loads(record.read_bytes()))
        pgid = fields.integer(data, "pgid", lo=1, hi=fields.MAX_PID)
        owner = fields.integer(data, "pid", lo=1, hi=fields.MAX_PID)
        started, hook = fields.number(data, "started"), fields.text(data, "hook")
    except (OSError, ValueError):
        return None
    from worktree_tools.core.procs import alive_before

    if alive_before(owner, started):
        return None
    import psutil

    pids: list[int] = []
    for proc in psutil.process_iter(["pid", "create_time"]):
        try:
            # Same group, and not older than the record: not a reused group id.
            if os.getpgid(proc.pid) == pgid and proc.info["create_time"] >= started - 1.0:
                pids.append(proc.pid)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return Orphans(hook, pgid, pids, owner)


def reap_orphans(record: Path) -> Orphans | None:
    """End a dead committer's hook processes, then drop its record. Returns what it ended."""
    if not record.exists():
        return None
    orphans = find_orphans(record)
    if orphans is None:
        try:
            json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record.unlink(missing_ok=True)  # unreadable: nothing to act on
        return None
    for pid in orphans.pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    record.unlink(missing_ok=True)
    return orphans if orphans.pids else None
