"""The append-only event log: one JSON line per mutating action, in the common git dir.

Each line is written with a single write() under an exclusive flock on the log itself, so
concurrent writers in any worktree never interleave or tear a line.
"""

from __future__ import annotations

import fcntl
import os
import time

from worktree_tools.core import fields, jsonline, times
from worktree_tools.core.procs import HOST
from worktree_tools.core.statefiles import EVENTS_LOG as LOG_NAME

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

    StrPath = str | os.PathLike[str]


def log_path(state_dir: StrPath) -> Path:
    from pathlib import Path

    return Path(state_dir) / LOG_NAME


def append(state_dir: StrPath, action: str, agent: str, **fields: Any) -> dict[str, Any]:
    """Append one event and return it. Timestamps are core.times' one format."""
    event: dict[str, Any] = {
        "ts": times.now_iso(),
        "action": action,
        "agent": agent,
        "pid": os.getpid(),
        "host": HOST,
        **fields,
    }
    line = (jsonline.dumps(event, ensure_ascii=False, default=str) + "\n").encode(
        "utf-8", "surrogateescape"
    )
    os.makedirs(state_dir, exist_ok=True)
    fd = os.open(os.path.join(state_dir, LOG_NAME), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(line)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    finally:
        os.close(fd)  # closing drops the flock
    return event


# Fields every event carries (with pid and host), and their types; others are free-form.
_REQUIRED = ("ts", "action", "agent")


def parse_line(raw: bytes) -> dict[str, Any]:
    """One event from one log line; FieldError (a ValueError) when the line is not one: not
    UTF-8, not JSON, not an object, or `ts`/`action`/`agent`/`pid`/`host` of the wrong type."""
    data = fields.obj(fields.loads(raw), "the line")
    for key in _REQUIRED:
        fields.text(data, key)
    fields.integer(data, "pid", lo=0, hi=fields.MAX_PID)
    fields.text(data, "host")
    return data


def read(state_dir: StrPath) -> Iterator[dict[str, Any]]:
    """Every event, oldest first. A line that is not a valid event (a crash mid-write on a
    filesystem without atomic appends, or a hand edit) is yielded as `{"corrupt": text,
    "line": n, "why": ..., "path": ..., "fix": ...}` rather than hidden."""
    path = os.path.join(state_dir, LOG_NAME)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - a generator owns it
    except FileNotFoundError:
        return
    with fh:
        for number, raw in enumerate(fh, 1):
            line = raw.rstrip(b"\n")
            if not line.strip():
                continue
            try:
                yield parse_line(line)
            except ValueError as exc:
                import shlex

                yield {
                    "corrupt": line.decode("utf-8", "backslashreplace"),
                    "line": number,
                    "why": str(exc),
                    "path": path,
                    "fix": f"the log is append-only history: leave line {number} as it is, "
                    f"or look at it with: sed -n {number}p {shlex.quote(path)}",
                }


def elapsed_ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 3)
