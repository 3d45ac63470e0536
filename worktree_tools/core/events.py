"""The append-only event log: one JSON line per mutating action, in the common git dir.

Each line is written with a single write() under an exclusive flock on the log itself, so
concurrent writers in any worktree never interleave or tear a line.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from worktree_tools.core.procs import HOST

LOG_NAME = "events.jsonl"


def log_path(state_dir: Path) -> Path:
    return state_dir / LOG_NAME


def append(state_dir: Path, action: str, agent: str, **fields: Any) -> dict[str, Any]:
    """Append one event and return it. Timestamps are UTC, ISO 8601, to the microsecond."""
    event: dict[str, Any] = {
        "ts": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
        "action": action,
        "agent": agent,
        "pid": os.getpid(),
        "host": HOST,
        **fields,
    }
    line = (json.dumps(event, ensure_ascii=False, default=str) + "\n").encode(
        "utf-8", "surrogateescape"
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_path(state_dir), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(line)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    finally:
        os.close(fd)  # closing drops the flock
    return event


def read(state_dir: Path) -> Iterator[dict[str, Any]]:
    """Every well-formed event, oldest first. A torn line (a crash mid-write on a filesystem
    without atomic appends) is yielded as {"corrupt": text} rather than hidden."""
    try:
        fh = open(log_path(state_dir), "rb")  # noqa: SIM115 - a generator owns it
    except FileNotFoundError:
        return
    with fh:
        for raw in fh:
            text = raw.decode("utf-8", "replace").rstrip("\n")
            if not text:
                continue
            try:
                value = json.loads(text)
            except ValueError:
                yield {"corrupt": text}
                continue
            yield value if isinstance(value, dict) else {"corrupt": text}


def elapsed_ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 3)
