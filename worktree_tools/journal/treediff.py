"""Journal rules between two trees, straight from the object database (pygit2).

Fast because nothing unchanged is opened: the walk starts at each pattern's literal prefix
(`journal/`), skips a subtree whose id did not change, and compares raw tree objects as sets
of entry bytes so that only changed entries are parsed. libgit2's own tree diff would descend
into identical subtrees, so it is not used.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from worktree_tools.journal.config import JournalConfig
from worktree_tools.journal.rules import (
    MODE_TREE,
    Kind,
    Violation,
    check_added,
    check_changed,
    fold,
    mark_renames,
)

Entry = tuple[int, bytes]  # (mode, raw 20-byte oid)
_RAW_ENTRY = re.compile(rb"[0-7]+ [^\0]*\0.{20}", re.S)
_CACHE_SIZE = 512


def _parse(raw: bytes) -> tuple[str, Entry]:
    mode, _, name = raw[:-21].partition(b" ")
    return name.decode("utf-8", "surrogateescape"), (int(mode, 8), raw[-20:])


class TreeDiffer:
    """Compares the journal of two root trees; caches what repeats across a history walk."""

    def __init__(self, repo: Any, cfg: JournalConfig) -> None:
        import pygit2

        self._oid = pygit2.Oid
        self.repo = repo
        self.odb = repo.odb
        self.cfg = cfg
        self.starts = cfg.starts()
        self._start_cache: dict[Any, tuple[Entry | None, ...]] = {}
        self._raw_cache: dict[bytes, frozenset[bytes]] = {}
        self._collided: dict[tuple[bytes, str], frozenset[str]] = {}

    def start_entries(self, tree_id: Any) -> tuple[Entry | None, ...]:
        """The entry at each start prefix of root tree `tree_id` (cached: a walk asks twice)."""
        hit = self._start_cache.get(tree_id)
        if hit is not None:
            return hit
        tree = None
        found: list[Entry | None] = []
        for start in self.starts:
            if start == "":
                found.append((MODE_TREE, tree_id.raw))
                continue
            if tree is None:
                tree = self.repo[tree_id]
            try:
                obj = tree[start]
            except KeyError:
                found.append(None)
                continue
            found.append((obj.filemode, obj.id.raw))
        value = tuple(found)
        if len(self._start_cache) > 4 * _CACHE_SIZE:
            self._start_cache.clear()
        self._start_cache[tree_id] = value
        return value

    def diff(self, old_root: Any | None, new_root: Any) -> list[Violation]:
        """Violations of `new_root` against `old_root` (None: the empty tree)."""
        old = self.start_entries(old_root) if old_root is not None else (None,) * len(self.starts)
        new = self.start_entries(new_root)
        if old == new:
            return []
        out: list[Violation] = []
        deleted: list[tuple[str, bytes]] = []
        added: dict[bytes, str] = {}
        for start, o, n in zip(self.starts, old, new, strict=True):
            if o != n:
                self._entry(start, o, n, None, out, deleted, added)
        return out + mark_renames(deleted, added)

    # -- the walk -----------------------------------------------------------------------

    def _entry(
        self,
        path: str,
        o: Entry | None,
        n: Entry | None,
        new_dir: bytes | None,
        out: list[Violation],
        deleted: list[tuple[str, bytes]],
        added: dict[bytes, str],
    ) -> None:
        o_tree = o is not None and o[0] == MODE_TREE
        n_tree = n is not None and n[0] == MODE_TREE
        if o is None and n is not None and new_dir is not None and self._relevant(path, n_tree):
            parent, _, name = path.rpartition("/")
            if fold(name) in self._collisions(new_dir, parent):
                out.append(
                    Violation(
                        path,
                        Kind.CASE_COLLISION,
                        "another entry differs only by case or Unicode normalisation",
                    )
                )
        if o_tree or n_tree:
            if o is not None and not o_tree and self.cfg.matches(path):
                out.append(Violation(path, Kind.TYPE_CHANGED, "a file became a directory"))
            if self.cfg.may_contain(path):
                old_id = o[1] if o is not None and o_tree else None
                new_id = n[1] if n is not None and n_tree else None
                self._dirs(path, old_id, new_id, out, deleted, added)
            if n is None or n_tree:
                return
            o = None  # a directory became a file: its files were deleted, this one is new
        if not self.cfg.matches(path):
            return
        if o is None and n is not None:
            added[n[1]] = path
            out += check_added(path, n[0], lambda: self._read(n[1]), self.cfg)
        elif n is None and o is not None:
            deleted.append((path, o[1]))
        elif o is not None and n is not None:
            out += check_changed(
                path,
                o[0],
                n[0],
                lambda: self._read(o[1]),
                lambda: self._read(n[1]),
                o[1] == n[1],
            )

    def _dirs(
        self,
        path: str,
        old_id: bytes | None,
        new_id: bytes | None,
        out: list[Violation],
        deleted: list[tuple[str, bytes]],
        added: dict[bytes, str],
    ) -> None:
        old_raw = self._raw(old_id) if old_id is not None else frozenset()
        new_raw = self._raw(new_id) if new_id is not None else frozenset()
        olds = dict(_parse(r) for r in old_raw - new_raw)
        news = dict(_parse(r) for r in new_raw - old_raw)
        for name in sorted(olds.keys() | news.keys()):
            self._entry(
                f"{path}/{name}" if path else name,
                olds.get(name),
                news.get(name),
                new_id,
                out,
                deleted,
                added,
            )

    def _relevant(self, path: str, is_tree: bool) -> bool:
        return self.cfg.may_contain(path) if is_tree else self.cfg.matches(path)

    def _collisions(self, dir_id: bytes, path: str) -> frozenset[str]:
        """Folded names that more than one journal entry of this directory shares."""
        key = (dir_id, path)
        hit = self._collided.get(key)
        if hit is None:
            counts: Counter[str] = Counter()
            for raw in self._raw(dir_id):
                name, (mode, _oid) = _parse(raw)
                if self._relevant(f"{path}/{name}" if path else name, mode == MODE_TREE):
                    counts[fold(name)] += 1
            hit = frozenset(k for k, c in counts.items() if c > 1)
            if len(self._collided) > _CACHE_SIZE:
                self._collided.clear()
            self._collided[key] = hit
        return hit

    def _raw(self, tree_id: bytes) -> frozenset[bytes]:
        hit = self._raw_cache.get(tree_id)
        if hit is None:
            _type, data = self.odb.read(self._oid(raw=tree_id))
            hit = frozenset(_RAW_ENTRY.findall(data))
            if len(self._raw_cache) > _CACHE_SIZE:
                self._raw_cache.clear()
            self._raw_cache[tree_id] = hit
        return hit

    def _read(self, blob_id: bytes) -> bytes:
        _type, data = self.odb.read(self._oid(raw=blob_id))
        return bytes(data)
