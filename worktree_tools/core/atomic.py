"""The one atomic file writer (readers see the old file or the new one, never a mix), and the
one reader of a small state file that must be treated as untrusted (`read_state`).

`write_bytes`/`write_text` write data, `copy_file` a copy of another file (read in chunks: a
pack may be large), `symlink` points a link somewhere else.

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

from worktree_tools.core import faults
from worktree_tools.core.errors import CorruptState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import TypeVar

    T = TypeVar("T")
    StrPath = str | os.PathLike[str]


def write_bytes(
    path: StrPath,
    data: bytes,
    *,
    durable: bool,
    mode: int | None = None,
    fault: str | None = None,
    sync_dir: bool | None = None,
) -> None:
    """Replace `path` with `data`. `mode`: the file's permission bits (default: 0o666 & ~umask).
    `fault`: a WT_FAULT point hit after the data is written and before the rename.
    `sync_dir` (default: `durable`): fsync the directory after the rename."""
    _write(path, (data,), durable=durable, mode=mode, fault=fault, sync_dir=sync_dir)


def copy_file(src: StrPath, dst: StrPath, *, durable: bool, mode: int | None = None) -> None:
    """Replace `dst` with a copy of `src`'s bytes (`mode` as in write_bytes)."""
    with open(src, "rb") as fh:
        _write(dst, iter(lambda: fh.read(1 << 20), b""), durable=durable, mode=mode)


def _write(
    path: StrPath,
    chunks: Iterable[bytes],
    *,
    durable: bool,
    mode: int | None = None,
    fault: str | None = None,
    sync_dir: bool | None = None,
) -> None:
    tmp = _tmp(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        for data in chunks:
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
    if durable if sync_dir is None else sync_dir:
        fsync_dir(parent(path))


def parent(path: StrPath) -> str:
    """`Path(path).parent`: the directory holding `path` ("." for a bare name)."""
    return os.path.dirname(os.fspath(path).rstrip("/")) or "."


def _tmp(path: StrPath) -> str:
    head, name = os.path.split(os.fspath(path).rstrip("/"))
    return os.path.join(head, f".{name}.{os.getpid()}.tmp")


def symlink(link: StrPath, target: StrPath, *, durable: bool = False) -> None:
    """Make `link` a symbolic link to `target`, replacing whatever file or link is there in one
    rename (a reader follows the old link or the new one, never none)."""
    tmp = _tmp(link)
    try:  # noqa: SIM105 - contextlib costs the hot path start-up
        os.unlink(tmp)  # left by a killed run with this pid
    except FileNotFoundError:
        pass
    os.symlink(target, tmp, target_is_directory=True)
    os.replace(tmp, link)
    if durable:
        fsync_dir(parent(link))


def write_text(
    path: StrPath,
    text: str,
    *,
    durable: bool,
    mode: int | None = None,
    fault: str | None = None,
    encoding: str = "utf-8",
) -> None:
    write_bytes(path, text.encode(encoding), durable=durable, mode=mode, fault=fault)


def fsync_dir(directory: StrPath) -> None:
    """Make a rename or a new entry in `directory` survive a crash."""
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def read_state(path: StrPath, parse: Callable[[bytes], T], remove_when: str) -> T | None:
    """`parse(bytes of path)`; None when the file does not exist. A file that cannot be read or
    parsed is CorruptState (never taken as absent), whose fix removes it `remove_when` (e.g.
    "when nobody holds the lock")."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CorruptState(os.fspath(path), exc.strerror or str(exc)) from None
    try:
        return parse(raw)
    except ValueError as exc:
        import shlex

        raise CorruptState(
            os.fspath(path),
            str(exc),
            fix=f"{remove_when}: rm {shlex.quote(os.fspath(path))}",
        ) from None
