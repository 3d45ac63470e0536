"""Run a repository hook as `git commit` would: stdin closed, output sent to our stderr (and
kept, so a failure can be reported).

Each hook runs in a session and process group of its own, recorded in `<git dir>/wt-hooks.json`
(written before the hook starts, with the nonce of the mark the hook carries, see marker). If
wt-commit is killed mid-hook, the record survives and names the orphaned group; the next commit
in that worktree (holding the worktree lock the dead one held) ends it before reusing the hook
checkout, and `git wt doctor` reports it. A process is ended only on proof that it is that hook:
in the recorded session, started no earlier than the hook, carrying the run's nonce in its
environment. A stale or forged record gets nothing killed; what it names is reported.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.core import fields
from worktree_tools.hooks import marker

KEEP_OUTPUT_BYTES = 64 * 1024
COMMIT_HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg")
RECORD_NAME = marker.RECORD_NAME


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
    nonce: str | None = None,
) -> HookRun | None:
    """Run hook `name` if it exists and is executable; None when there is no such hook."""
    path = find(hooks_dir, name)
    if path is None:
        return None
    started = time.time()
    if record is not None:
        _write_record(record, name, None, cwd, started, nonce)  # before the hook can read it
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
        _write_record(record, name, proc.pid, cwd, started, nonce)
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


def _write_record(
    record: Path, name: str, pgid: int | None, cwd: Path, started: float, nonce: str | None
) -> None:
    data = {"pid": os.getpid(), "pgid": pgid, "hook": name, "cwd": os.fspath(cwd),
            "started": started, "nonce": nonce}  # fmt: skip
    tmp = record.with_name(record.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, record)


def _kill_group(pgid: int, sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@dataclass(frozen=True)
class Orphans:
    hook: str
    pgid: int
    pids: list[int]  # proven to be the orphaned hook: these may be ended
    committer_pid: int
    unproven: list[int] = field(default_factory=list)  # in the group, but not proven ours


def find_orphans(record: Path) -> Orphans | None:
    """Hook processes left by a wt-commit that died mid-hook. None when the record is absent or
    unreadable, or its committer is still alive (then its hook is no orphan)."""
    try:
        data = fields.obj(fields.loads(record.read_bytes()))
        owner = fields.integer(data, "pid", lo=1, hi=fields.MAX_PID)
        started, hook = fields.number(data, "started"), fields.text(data, "hook")
        pgid = None  # written before the hook starts; its group once it has
        if data.get("pgid") is not None:
            pgid = fields.integer(data, "pgid", lo=1, hi=fields.MAX_PID)
        nonce = fields.opt_text(data, "nonce", max_len=128)
    except (OSError, ValueError):
        return None
    from worktree_tools.core.procs import alive_before

    if alive_before(owner, started):
        return None
    if pgid is None or pgid <= 1:
        return Orphans(hook, 0, [], owner)
    import psutil

    pids: list[int] = []
    unproven: list[int] = []
    for proc in psutil.process_iter(["pid", "create_time"]):
        try:
            if os.getpgid(proc.pid) != pgid and os.getsid(proc.pid) != pgid:
                continue
        except (ProcessLookupError, PermissionError, OSError):
            continue
        if _proven_hook(proc, pgid, started, nonce):
            pids.append(proc.pid)
        else:
            unproven.append(proc.pid)
    return Orphans(hook, pgid, pids, owner, unproven)


def _proven_hook(proc: Any, sid: int, started: float, nonce: object) -> bool:
    """Same session as the hook, started no earlier, and carrying the run's nonce."""
    import psutil

    if not isinstance(nonce, str) or not nonce:
        return False
    try:
        if os.getsid(proc.pid) != sid or proc.info["create_time"] < started - 1.0:
            return False
        mark = proc.environ().get(marker.HELD_ENV, "")
    except (OSError, psutil.Error):
        return False
    return bool(mark.split(":", 2)[1:2] == [nonce])


def reap_orphans(record: Path) -> Orphans | None:
    """End a dead committer's proven hook processes, then drop its record. Returns what it
    found (ended: `pids`; left running and reported: `unproven`)."""
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
    return orphans if orphans.pids or orphans.unproven else None
