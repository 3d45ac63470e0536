"""A tree from another tree and a few changed entries, rewriting only the directories on the way.

Staging N paths through an index costs three passes over every entry of the repository
(`read-tree`, `update-index`, `write-tree`), whatever N: at 100,000 files most of a small
commit. Here only the directories that hold a changed path are read (one `git cat-file --batch`,
asked one directory at a time), changed in memory, and written bottom-up by one `git mktree
--batch` (which sorts the entries and checks that each object exists with the type its mode
says): the cost follows the changed paths and the size of their directories.

The result is the tree `git update-index --index-info` + `git write-tree` would give over an
index holding the base tree: setting a path replaces a file on its way (or a directory in its
place), removing a path that is absent or a directory does nothing, and a directory left empty
disappears. Directories no change reaches are kept byte for byte.

On wt-commit's hot path: no pygit2, no psutil.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterable
from typing import IO

from worktree_tools.core.entries import Entry
from worktree_tools.core.errors import GitError
from worktree_tools.core.gitcmd import popen
from worktree_tools.core.repo import Worktree

TREE = "40000"  # as git writes a directory's mode in a tree object
_Listing = dict[bytes, tuple[str, str]]  # name -> (mode as written, hex oid)


def edit(wt: Worktree, base: str, changes: Iterable[tuple[str, Entry | None]]) -> str:
    """The id of `base` (a tree) with each (path, entry) set, or removed where entry is None.

    Changes are applied in index order (bytewise by path), as one `update-index --index-info`
    applies them."""
    ordered = sorted(((os.fsencode(p), e) for p, e in changes), key=lambda c: c[0])
    if not ordered:
        return base
    with _Reader(wt, base) as reader:
        dirs = reader.load({_parent(path) for path, _ in ordered})
    dirty: set[bytes] = set()
    for path, entry in ordered:
        if entry is None:
            _remove(dirs, dirty, path)
        else:
            _set(dirs, dirty, path, entry)
    return _write(wt, dirs, dirty, base)


def _parent(path: bytes) -> bytes:
    return path.rpartition(b"/")[0]


def _remove(dirs: dict[bytes, _Listing], dirty: set[bytes], path: bytes) -> None:
    parent, _, name = path.rpartition(b"/")
    listing = dirs.get(parent)  # absent: a file (or nothing) is on the way, so is not `path`
    if listing is None or name not in listing or _is_tree(listing[name][0]):
        return
    del listing[name]
    dirty.add(parent)


def _set(dirs: dict[bytes, _Listing], dirty: set[bytes], path: bytes, entry: Entry) -> None:
    parts = path.split(b"/")
    here = b""
    for i, name in enumerate(parts):
        listing = dirs[here]
        below = b"/".join(parts[: i + 1])
        if i == len(parts) - 1:
            if name in listing and _is_tree(listing[name][0]):  # a directory in its place goes
                _drop(dirs, below)
            listing[name] = (entry.mode, entry.oid)
            dirty.add(here)
            return
        if below not in dirs:  # nothing there, or a file on the way (it goes)
            dirs[below] = {}
            listing[name] = (TREE, "")
            dirty.add(here)
        here = below


def _drop(dirs: dict[bytes, _Listing], top: bytes) -> None:
    prefix = top + b"/"
    for d in [d for d in dirs if d == top or d.startswith(prefix)]:
        del dirs[d]


def _write(wt: Worktree, dirs: dict[bytes, _Listing], dirty: set[bytes], base: str) -> str:
    """Write the changed directories, deepest first, each parent after its children."""
    todo = set(dirty)
    for d in dirty:
        while d:
            d = _parent(d)
            todo.add(d)
    if not todo:
        return base
    with _Maker(wt) as maker:
        for d in sorted(todo, key=lambda d: (-d.count(b"/") if d else 1, d)):
            listing = dirs.get(d)
            if listing is None:  # replaced by a file meanwhile
                continue
            if not d:
                return maker.make(listing)
            parent, _, name = d.rpartition(b"/")
            if listing:
                dirs[parent][name] = (TREE, maker.make(listing))
            else:  # an index cannot hold an empty directory: write-tree would leave it out
                del dirs[parent][name]
    raise AssertionError("the root is always written last")  # pragma: no cover


class _Process:
    """One long-lived git process spoken to line by line (it dies with us)."""

    def __init__(self, wt: Worktree, args: list[str]) -> None:
        self.args = args
        self.proc = popen(
            args,
            cwd=wt.toplevel,
            env=wt.env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout

    def __enter__(self) -> _Process:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(BrokenPipeError):
            self.stdin.close()
        self.stdout.close()
        self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def ask(self, request: bytes) -> bytes:
        """Send `request`, return the first line of the answer (GitError if git died)."""
        with contextlib.suppress(BrokenPipeError):  # git died: its stderr says why
            self.stdin.write(request)
            self.stdin.flush()
        line = self.stdout.readline()
        if not line.endswith(b"\n"):
            self.fail()
        return line[:-1]

    def fail(self, why: str = "") -> None:
        self.stdin.close()
        err = self.proc.stderr.read() if self.proc.stderr is not None else b""
        code = self.proc.wait()
        raise GitError(self.args, code, why or err.decode("utf-8", "replace"))


class _Reader(_Process):
    """`git cat-file --batch`: the directories of the base tree that changes reach."""

    def __init__(self, wt: Worktree, base: str) -> None:
        super().__init__(wt, ["cat-file", "--batch"])
        self.base = base
        self.raw = len(base) // 2  # bytes of an object id inside a tree object

    def __enter__(self) -> _Reader:
        return self

    def load(self, wanted: set[bytes]) -> dict[bytes, _Listing]:
        """The listing of every directory of the base on the way to `wanted` (those that
        exist as directories there), from the top down."""
        need = {b""}
        for d in wanted:
            while d:
                need.add(d)
                d = _parent(d)
        dirs: dict[bytes, _Listing] = {b"": self.read(self.base)}
        for d in sorted(need, key=lambda d: d.count(b"/") if d else -1):
            if not d:
                continue
            parent, _, name = d.rpartition(b"/")
            up = dirs.get(parent)
            entry = up.get(name) if up is not None else None
            if entry is not None and _is_tree(entry[0]):
                dirs[d] = self.read(entry[1])
        return dirs

    def read(self, oid: str) -> _Listing:
        header = self.ask(oid.encode() + b"\n").split(b" ")
        if len(header) != 3 or header[1] != b"tree":
            self.fail(f"{oid} is not a tree: {b' '.join(header).decode('utf-8', 'replace')}")
        size = int(header[2])
        data = self.stdout.read(size + 1)
        if len(data) != size + 1:
            self.fail()
        return _parse_tree(data[:size], self.raw)


def _parse_tree(data: bytes, raw: int) -> _Listing:
    out: _Listing = {}
    at = 0
    while at < len(data):
        space = data.index(b" ", at)
        nul = data.index(b"\0", space)
        mode = data[at:space].decode("ascii")
        out[data[space + 1 : nul]] = (mode, data[nul + 1 : nul + 1 + raw].hex())
        at = nul + 1 + raw
    return out


class _Maker(_Process):
    """`git mktree -z --batch`: one tree per request, answered with its id."""

    def __init__(self, wt: Worktree) -> None:
        super().__init__(wt, ["mktree", "-z", "--batch"])

    def __enter__(self) -> _Maker:
        return self

    def make(self, listing: _Listing) -> str:
        lines = [
            f"{mode} {_kind(mode)} {oid}\t".encode() + name + b"\0"
            for name, (mode, oid) in listing.items()
        ]
        return self.ask(b"".join(lines) + b"\0").decode("ascii")


def _is_tree(mode: str) -> bool:
    return int(mode, 8) == 0o40000


def _kind(mode: str) -> str:
    value = int(mode, 8)
    if value == 0o40000:
        return "tree"
    if value == 0o160000:
        return "commit"
    return "blob"
