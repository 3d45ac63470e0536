"""The one atomic file writer: readers see the old file or the new one, never a mix.

A temporary file next to the target (`.<name>.<pid>.tmp`, same directory so the rename stays on
one filesystem) is written whole, then renamed over the target with `os.replace`.

`durable=True` (state that must survive a crash: ownership records, hooks, harness settings)
also fsyncs the file before the rename and the directory after it. `durable=False` is for files
that are worthless after a crash and sit on a hot path (a lock's holder record, a guard pass,
a running hook's record): the rename alone keeps them whole.

On wt-commit's hot path: os only.
"""

from __future__ import annotations

import os
from pathlib import Path

from worktree_tools.core import faults


def write_bytes(
    path: Path,
    data: bytes,
    *,
    durable: bool,
    mode: int | None = None,
    fault: str | None = None,
) -> None:
    """Replace `path` with `data`. `mode`: the file's permission bits (default: 0o666 & ~umask).
    `fault`: a WT_FAULT point hit after the data is written and before the rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if mode is not None:
            os.fchmod(fd, mode)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    if fault is not None:
        faults.point(fault)
    os.replace(tmp, path)
    if durable:
        fsync_dir(path.parent)


def write_text(
    path: Path,
    text: str,
    *,
    durable: bool,
    mode: int | None = None,
    fault: str | None = None,
    encoding: str = "utf-8",
) -> None:
    write_bytes(path, text.encode(encoding), durable=durable, mode=mode, fault=fault)


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new entry in `directory` survive a crash."""
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
