"""Index and tree entries as data: list them with one git process, change them with one.

A commit of N paths must cost O(N) git work, so entries are read in one listing (limited by
pathspecs only when there are few: git matches every entry against every pathspec) and written
by one `git update-index --index-info`, never a process or a pathspec per path.
"""

from __future__ import annotations

import os

from worktree_tools.core.repo import Worktree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

# Above this many paths, list everything and select in Python (linear) rather than hand git
# pathspecs (each listed entry is matched against each pathspec).
PATHSPEC_LIMIT = 64
GITLINK = "160000"


class Entry(tuple[str, str]):
    """(mode, oid): mode "100644", "100755", "120000", "160000"; "conflict" for an unmerged
    path. A tuple, as typing.NamedTuple made it, without importing typing (issue 17)."""

    __slots__ = ()

    def __new__(cls, mode: str, oid: str) -> Entry:
        return tuple.__new__(cls, (mode, oid))

    @property
    def mode(self) -> str:
        return self[0]

    @property
    def oid(self) -> str:
        return self[1]

    def __getnewargs__(self) -> tuple[str, str]:  # copy and pickle, as a NamedTuple's
        return (self[0], self[1])

    def __repr__(self) -> str:
        return f"Entry(mode={self[0]!r}, oid={self[1]!r})"


def covered(path: str, named: frozenset[str]) -> bool:
    """Whether `path` is one of the `named` paths or inside one of them ('.' covers all)."""
    if "." in named or path in named:
        return True
    while "/" in path:
        path = path.rpartition("/")[0]
        if path in named:
            return True
    return False


def _limit(rels: Iterable[str] | None) -> list[str]:
    if rels is None:
        return []
    rels = list(rels)
    if "." in rels or len(rels) > PATHSPEC_LIMIT:
        return []
    return ["--", *rels]


def tree_entries(
    wt: Worktree, rev: str | None, rels: Iterable[str] | None = None
) -> dict[str, Entry]:
    """Every blob, link and gitlink of `rev`'s tree (covering `rels`, if given)."""
    if rev is None:
        return {}
    res = wt.git(["ls-tree", "-r", "-z", "--full-tree", rev, *_limit(rels)], literal=True)
    out: dict[str, Entry] = {}
    for item in res.stdout.split(b"\0"):
        if not item:
            continue
        meta, _, path = item.partition(b"\t")
        mode, _type, oid = meta.decode().split(" ")
        out[os.fsdecode(path)] = Entry(mode, oid)
    return out


def index_entries(
    wt: Worktree, index: str | os.PathLike[str], rels: Iterable[str] | None = None
) -> dict[str, Entry]:
    """The entries of `index` (covering `rels`, if given); an unmerged path is one 'conflict'."""
    if not os.path.exists(index):
        return {}
    res = wt.git(["ls-files", "-s", "-z", *_limit(rels)], index=index, literal=True)
    out: dict[str, Entry] = {}
    for item in res.stdout.split(b"\0"):
        if not item:
            continue
        meta, _, path = item.partition(b"\t")
        mode, oid, stage = meta.decode().split(" ")
        name = os.fsdecode(path)
        out[name] = Entry(mode, oid) if stage == "0" else Entry("conflict", oid)
    return out


def differences(
    want: dict[str, Entry], have: dict[str, Entry], named: frozenset[str]
) -> list[tuple[str, Entry | None]]:
    """What to set (None: remove) in an index holding `have` so that every path `named` covers
    is as in `want`: `git reset WANT -- NAMED`, as data."""
    paths = {p for p in (*want, *have) if covered(p, named)}
    return [(p, want.get(p)) for p in paths if want.get(p) != have.get(p)]


def index_info(changes: Iterable[tuple[str, Entry | None]], oid_len: int = 40) -> bytes:
    """Input for `git update-index -z --index-info`: set each path to its entry, or remove it."""
    zero = "0" * oid_len
    lines = []
    for path, entry in changes:
        meta = f"{entry.mode} {entry.oid}" if entry is not None else f"0 {zero}"
        lines.append(meta.encode() + b"\t" + os.fsencode(path) + b"\0")
    return b"".join(lines)


def apply(
    wt: Worktree,
    index: str | os.PathLike[str],
    changes: list[tuple[str, Entry | None]],
    oid_len: int,
) -> None:
    """Set (or remove) `changes` in `index` with one git process."""
    if changes:
        changes.sort(key=lambda c: os.fsencode(c[0]))  # index order: inserts stay cheap
        wt.git(
            ["update-index", "-z", "--index-info"], index=index, input=index_info(changes, oid_len)
        )
