"""One `git cat-file --batch` that answers a whole commit's questions about objects.

A plain wt-commit needs the branch tip (its commit and tree), whether that tree holds a
`.wtjournal`, the entries of the named paths, and the directories the tree edit rewrites: all
of them objects of one repository, asked one after the other. One long-lived process answers
them all (started on the first question), and a tree read once is kept: the directories read
for the named paths' entries are the ones the tree edit changes.

Trees are parsed here, so the length of an object id inside a tree object comes from the
repository's object format (20 bytes for SHA-1, 32 for SHA-256), taken from the length of the
tree's own id.

On wt-commit's hot path: no pygit2, no psutil, nothing imported that the interpreter has not.
"""

from __future__ import annotations

import os

from worktree_tools.core.errors import GitError
from worktree_tools.core.gitcmd import popen
from worktree_tools.core.spawn import PIPE, close_pipe

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from worktree_tools.core.repo import Worktree
    from worktree_tools.core.spawn import Process

    Listing = dict[bytes, tuple[str, str]]  # name -> (mode as written in the tree, hex id)

_ARGS = ["cat-file", "--batch"]
TREE_MODE = 0o40000


class CatFile:
    """`git cat-file --batch` for one repository, spoken to one object at a time.

    with CatFile(wt) as objects:
        oid, kind, data = objects.get("refs/heads/main") or ...
        listing = objects.tree(tree_oid)
    """

    __slots__ = ("_proc", "_trees", "wt")

    def __init__(self, wt: Worktree) -> None:
        self.wt = wt
        self._proc: Process | None = None
        self._trees: dict[str, Listing] = {}

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the process (it ends when its input does)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        close_pipe(proc.stdin)
        proc.__exit__()

    def _started(self) -> Process:
        if self._proc is None:
            wt = self.wt
            self._proc = popen(
                _ARGS, cwd=wt.toplevel_str, env=wt.env(), stdin=PIPE, stdout=PIPE, stderr=PIPE
            )
        return self._proc

    def get(self, name: str) -> tuple[str, str, bytes] | None:
        """(id, type, content) of the object `name` names (an id, a ref, `REV^{tree}`...);
        None when it names none (missing, or ambiguous). GitError if git fails."""
        if "\n" in name:
            raise ValueError(
                f"cat-file --batch cannot be asked for a name with a newline: {name!r}"
            )
        proc = self._started()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
            proc.stdin.flush()
        except BrokenPipeError:
            self._fail()  # git died: its stderr says why
        header = proc.stdout.readline()
        if not header.endswith(b"\n"):
            self._fail()
        parts = header[:-1].split(b" ")
        if len(parts) != 3 or parts[2] in (b"missing", b"ambiguous"):
            return None  # "NAME missing", "NAME ambiguous" (a NAME may hold a space)
        size = int(parts[2])
        data = proc.stdout.read(size + 1)
        if len(data) != size + 1:
            self._fail()
        return parts[0].decode("ascii"), parts[1].decode("ascii"), data[:size]

    def tree(self, oid: str) -> Listing:
        """The entries of the tree `oid`, read once and shared: a caller that changes one
        changes a copy. GitError when `oid` is not a tree."""
        cached = self._trees.get(oid)
        if cached is None:
            got = self.get(oid)
            if got is None or got[1] != "tree":
                what = got[1] if got is not None else "missing"
                raise GitError(_ARGS, 128, f"{oid} is not a tree: {what}")
            # the id length of the format from the id git reports (`oid` may be abbreviated)
            cached = self._trees[oid] = parse_tree(got[2], len(got[0]) // 2)
        return cached

    def _fail(self) -> None:
        proc, self._proc = self._proc, None
        assert proc is not None
        assert proc.stdin is not None and proc.stderr is not None
        close_pipe(proc.stdin)
        err = proc.stderr.read()
        code = proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        proc.stderr.close()
        raise GitError(_ARGS, code, err.decode("utf-8", "replace") or "ended early")


def parse_tree(data: bytes, raw: int) -> Listing:
    """A tree object's entries by name."""
    return {name: (mode.decode("ascii"), oid) for name, mode, oid in tree_items(data, raw)}


def tree_items(data: bytes, raw: int) -> Iterator[tuple[bytes, bytes, str]]:
    """(name, mode, hex id) of each entry of a tree object's content (`MODE NAME\\0<id: `raw`
    bytes>`, repeated), in the tree's order: the one reader of the format."""
    at = 0
    while at < len(data):
        space = data.index(b" ", at)
        nul = data.index(b"\0", space)
        yield data[space + 1 : nul], data[at:space], data[nul + 1 : nul + 1 + raw].hex()
        at = nul + 1 + raw


def is_tree(mode: str) -> bool:
    return int(mode, 8) == TREE_MODE


def canonical_mode(mode: str) -> str:
    """The mode as git lists it (`canon_mode`): a file 100644 or 100755, whatever an old
    tree wrote (100664...), a directory 040000."""
    value = int(mode, 8)
    kind = value & 0o170000
    if kind == 0o100000:
        return "100755" if value & 0o100 else "100644"
    if kind in (0o120000, TREE_MODE):
        return f"{kind:06o}"
    return "160000"


def clean(path: str) -> bool:
    """Whether `path` is a plain relative path (`a/b/c`: no empty, `.` or `..` component), as
    a pathspec names exactly one path and what is under it."""
    return all(part not in ("", ".", "..") for part in path.split("/"))


def named_entries(
    objects: CatFile, tree: str, rels: list[str]
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """What `git ls-tree -r --full-tree TREE -- RELS` lists for the `rels` that name a file, a
    link or a submodule in `tree` (path -> (mode as ls-tree prints it, id)), read from the
    directories on the way; and the `rels` this cannot answer alone (a directory, whose files
    are best listed by ls-tree, or a path that is not plain)."""
    found: dict[str, tuple[str, str]] = {}
    rest: list[str] = []
    for rel in rels:
        if not clean(rel):
            rest.append(rel)
            continue
        entry = walk(objects, tree, rel)
        if entry is None:
            continue
        if is_tree(entry[0]):
            rest.append(rel)
        else:
            found[rel] = (canonical_mode(entry[0]), entry[1])
    return found, rest


def walk(objects: CatFile, tree: str, path: str) -> tuple[str, str] | None:
    """(mode, id) of `path` (a plain relative path, `a/b/c`) in `tree`; None if absent, or a
    file or submodule on the way."""
    here = tree
    parts = os.fsencode(path).split(b"/")
    last = len(parts) - 1
    for i, name in enumerate(parts):
        entry = objects.tree(here).get(name)
        if entry is None or i == last:
            return entry
        if not is_tree(entry[0]):
            return None
        here = entry[1]
    return None  # pragma: no cover (parts is never empty)
