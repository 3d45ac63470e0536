"""A tree from another tree and a few changed entries, rewriting only the directories on the way.

Staging N paths through an index costs three passes over every entry of the repository
(`read-tree`, `update-index`, `write-tree`), whatever N: at 100,000 files most of a small
commit. Here only the directories that hold a changed path are read (one `git cat-file --batch`,
asked one directory at a time: the caller's, core/catfile, when it has one open), changed in
memory, and written bottom-up: by this process when the caller passes a core/loose writer (a
commit's hot path), else by one `git mktree --batch` (which sorts the entries and checks that
each object exists with the type its mode says): the cost follows the changed paths and the size
of their directories.

The result is the tree `git update-index --index-info` + `git write-tree` would give over an
index holding the base tree: setting a path replaces a file on its way (or a directory in its
place), removing a path that is absent or a directory does nothing, and a directory left empty
disappears. Directories no change reaches are kept byte for byte.

On wt-commit's hot path: no pygit2, no psutil.
"""

from __future__ import annotations

import os

from worktree_tools.core.catfile import CatFile, is_tree
from worktree_tools.core.errors import GitError
from worktree_tools.core.gitcmd import popen
from worktree_tools.core.loose import tree_content
from worktree_tools.core.spawn import PIPE, close_pipe

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import IO

    from worktree_tools.core.catfile import Listing as _Listing
    from worktree_tools.core.entries import Entry
    from worktree_tools.core.loose import LooseObjects
    from worktree_tools.core.repo import Worktree

TREE = "40000"  # as git writes a directory's mode in a tree object


def edit(
    wt: Worktree,
    base: str,
    changes: Iterable[tuple[str, Entry | None]],
    objects: CatFile | None = None,
    store: LooseObjects | None = None,
) -> str:
    """The id of `base` (a tree) with each (path, entry) set, or removed where entry is None.
    `objects`: an open cat-file to read the directories with (else one is started here);
    `store`: where to write the new trees in this process (else `git mktree` writes them).

    Changes are applied in index order (bytewise by path), as one `update-index --index-info`
    applies them."""
    ordered = sorted(((os.fsencode(p), e) for p, e in changes), key=lambda c: c[0])
    if not ordered:
        return base
    wanted = {_parent(path) for path, _ in ordered}
    if objects is not None:
        dirs = _load(objects, base, wanted)
    else:
        with CatFile(wt) as own:
            dirs = _load(own, base, wanted)
    dirty: set[bytes] = set()
    for path, entry in ordered:
        if entry is None:
            _remove(dirs, dirty, path)
        else:
            _set(dirs, dirty, path, entry)
    return _write(wt, store, dirs, dirty, base)


def _parent(path: bytes) -> bytes:
    return path.rpartition(b"/")[0]


def _load(objects: CatFile, base: str, wanted: set[bytes]) -> dict[bytes, _Listing]:
    """The listing of every directory of `base` on the way to `wanted` (those that exist as
    directories there), from the top down: copies, to be changed."""
    need = {b""}
    for d in wanted:
        while d:
            need.add(d)
            d = _parent(d)
    dirs: dict[bytes, _Listing] = {b"": dict(objects.tree(base))}
    for d in sorted(need, key=lambda d: d.count(b"/") if d else -1):
        if not d:
            continue
        parent, _, name = d.rpartition(b"/")
        up = dirs.get(parent)
        entry = up.get(name) if up is not None else None
        if entry is not None and is_tree(entry[0]):
            dirs[d] = dict(objects.tree(entry[1]))
    return dirs


def _remove(dirs: dict[bytes, _Listing], dirty: set[bytes], path: bytes) -> None:
    parent, _, name = path.rpartition(b"/")
    listing = dirs.get(parent)  # absent: a file (or nothing) is on the way, so is not `path`
    if listing is None or name not in listing or is_tree(listing[name][0]):
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
            if name in listing and is_tree(listing[name][0]):  # a directory in its place goes
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


def _write(
    wt: Worktree,
    store: LooseObjects | None,
    dirs: dict[bytes, _Listing],
    dirty: set[bytes],
    base: str,
) -> str:
    """Write the changed directories, deepest first, each parent after its children."""
    todo = set(dirty)
    for d in dirty:
        while d:
            d = _parent(d)
            todo.add(d)
    if not todo:
        return base
    with Written(store) if store is not None else _Maker(wt) as maker:
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


class Written:
    """Trees written by this process (core/loose), one per request, as git mktree writes them."""

    __slots__ = ("store",)

    def __init__(self, store: LooseObjects) -> None:
        self.store = store

    def __enter__(self) -> Written:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def make(self, listing: _Listing) -> str:
        return self.store.write(b"tree", tree_content(listing))


class _Maker:
    """`git mktree -z --batch`: one tree per request, answered with its id (it dies with us)."""

    _ARGS = ("mktree", "-z", "--batch")

    def __init__(self, wt: Worktree) -> None:
        self.proc = popen(
            list(self._ARGS),
            cwd=wt.toplevel_str,
            env=wt.env(),
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout

    def __enter__(self) -> _Maker:
        return self

    def __exit__(self, *exc: object) -> None:
        close_pipe(self.stdin)
        self.stdout.close()
        self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def make(self, listing: _Listing) -> str:
        lines = [
            f"{mode} {_kind(mode)} {oid}\t".encode() + name + b"\0"
            for name, (mode, oid) in listing.items()
        ]
        try:
            self.stdin.write(b"".join(lines) + b"\0")
            self.stdin.flush()
        except BrokenPipeError:
            pass  # git died: its stderr says why
        line = self.stdout.readline()
        if not line.endswith(b"\n"):
            self.stdin.close()
            err = self.proc.stderr.read() if self.proc.stderr is not None else b""
            code = self.proc.wait()
            raise GitError(list(self._ARGS), code, err.decode("utf-8", "replace"))
        return line[:-1].decode("ascii")


def _kind(mode: str) -> str:
    value = int(mode, 8)
    if value == 0o40000:
        return "tree"
    if value == 0o160000:
        return "commit"
    return "blob"
