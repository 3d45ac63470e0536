"""The journal rules over a range of history: every commit against every one of its parents.

git does the tree work, in C: `git rev-list --parents` lists the commits and `git diff-tree
--stdin` compares each (commit, parent) pair under the journal paths only, skipping every
subtree whose id did not change. Blobs are then read straight from the object database
(pygit2, no pipe round trip), and the rules (`rules`, via `gate.diff_listings`) run on the
changed paths alone. A root commit is compared with the empty tree.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.core.errors import GitError
from worktree_tools.core.gitcmd import clean_env, git
from worktree_tools.core.statefiles import JOURNAL_CONFIG as CONFIG_FILE
from worktree_tools.journal.config import JournalConfig
from worktree_tools.journal.gate import Listing, diff_listings
from worktree_tools.journal.rules import MODE_FILE, Kind, Violation, content_problems, fold

_NO_MODE = "000000"
_CACHE = 256


@dataclass
class Walked:
    commits: int = 0
    merges: int = 0
    pairs: int = 0
    changed_pairs: int = 0
    violations: list[Violation] = field(default_factory=list)
    # commits that changed .wtjournal, with all their parents: for the policy rule
    config_changes: list[tuple[str, list[str]]] = field(default_factory=list)


def walk(repo: Any, cfg: JournalConfig, new: str, hide: list[str]) -> Walked:
    """Every commit reachable from `new` and from none of `hide`, against every parent.

    One `git log` walks the range and diffs each one-parent (or root) commit under the
    journal paths; --full-history --sparse keep every commit, so merges are listed too, and
    are then compared with each parent by `git diff-tree --stdin`."""
    out = Walked()
    merges: list[tuple[str, str | None]] = []
    checker = RangeChecker(repo, cfg)
    args = [
        "-c", "log.showRoot=true", "-c", "log.follow=false", "-c", "log.showSignature=false",
        "log", "--full-history", "--sparse", "--raw", "--no-renames", "-z", "--no-abbrev",
        "--no-ext-diff", "--no-textconv", "--no-color", "--ignore-submodules=none",
        "--format=%H %P",
        new, "--not", *hide, "--", *_pathspec(cfg),
    ]  # fmt: skip
    quiet: list[str] = []  # one-parent commits that did not touch the journal
    seen: list[str] = []  # every other commit, kept for a range's boundary
    for header, changes in _sections(repo, cfg, args, None, quiet=quiet):
        if hide:
            seen.append(header)
        out.commits += 1
        if len(header) == 81:  # the common case: "<commit> <parent>" (SHA-1)
            out.pairs += 1
            if changes is not None:
                out.changed_pairs += 1
                out.violations += checker.check(header[:40], header[41:], changes)
                if changes.config:
                    out.config_changes.append((header[:40], [header[41:]]))
            continue
        commit, *parents = header.split()
        if changes is not None and changes.config and len(parents) == 1:
            out.config_changes.append((commit, parents))
        out.pairs += len(parents) or 1
        if len(parents) > 1:
            out.merges += 1
            merges.extend((commit, p) for p in parents)
        elif changes is not None:
            out.changed_pairs += 1
            out.violations += checker.check(commit, parents[0] if parents else None, changes)
    out.commits += len(quiet)
    out.pairs += len(quiet)
    merge_parents: dict[str, list[str]] = {}
    for commit, parent in merges:
        merge_parents.setdefault(commit, []).append(str(parent))
    config_merges: set[str] = set()
    for commit, parent, changes in _pairs(repo, cfg, merges):
        out.changed_pairs += 1
        out.violations += checker.check(commit, parent, changes)
        if changes.config:
            config_merges.add(commit)
    out.config_changes += [(c, merge_parents[c]) for c in sorted(config_merges)]
    if hide:  # a range: twins may come from the commits it starts from
        headers = quiet + seen
        inside = {h.split(" ", 1)[0] for h in headers}
        checker.seed({p for h in headers for p in h.split()[1:]} - inside)
    out.violations += checker.collisions()
    return out


def _pathspec(cfg: JournalConfig) -> list[str]:
    """The journal's directories and the configuration itself (its changes are checked by
    the policy rule in the same pass)."""
    starts = cfg.starts()
    return [] if "" in starts else [*starts, CONFIG_FILE]


def _pairs(
    repo: Any, cfg: JournalConfig, pairs: list[tuple[str, str | None]]
) -> Iterator[tuple[str, str | None, Changes]]:
    """Explicit (commit, parent) pairs (a merge against each of its parents), in one
    `git diff-tree --stdin`; --always keeps one header per pair, in order."""
    if not pairs:
        return
    args = ["diff-tree", "--stdin", "--always", "-r", "--root", "--raw", "--no-renames", "-z"]
    args += ["--no-abbrev", "--no-ext-diff", "--no-textconv", "--ignore-submodules=none"]
    args += ["--", *_pathspec(cfg)]
    feed = "".join(f"{c} {p}\n" if p else f"{c}\n" for c, p in pairs).encode()
    for index, (_header, changes) in enumerate(_sections(repo, cfg, args, feed)):
        if changes is not None:
            yield pairs[index][0], pairs[index][1], changes


@dataclass
class Changes:
    """What git reported for one pair under the journal paths."""

    old: Listing = field(default_factory=dict)
    new: Listing = field(default_factory=dict)
    config: bool = False  # .wtjournal changed

    def __bool__(self) -> bool:
        return bool(self.old or self.new or self.config)


def _sections(
    repo: Any,
    cfg: JournalConfig,
    args: list[str],
    feed: bytes | None,
    quiet: list[str] | None = None,
) -> Iterator[tuple[str, Changes | None]]:
    """Run git (`feed` on its stdin, from a thread) and yield each header with the journal
    changes under it (None: none), as they come: checking overlaps git's work. With `quiet`,
    a "<commit> <parent>" header without changes goes there instead (most of a history)."""
    proc = subprocess.Popen(
        ["git", *args],
        cwd=repo.path,
        env=_env(repo, GIT_LITERAL_PATHSPECS="1"),
        stdin=subprocess.PIPE if feed is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    thread = None
    if feed is not None:
        stdin = proc.stdin
        assert stdin is not None

        def writer() -> None:
            with contextlib.suppress(BrokenPipeError):
                stdin.write(feed)
                stdin.close()

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
    matches: dict[str, bool] = {}
    header: str | None = None
    current: Changes | None = None
    meta: bytes | None = None
    rest = b""
    stdout = proc.stdout
    while True:
        chunk = stdout.read1(1 << 20)  # type: ignore[attr-defined]
        if not chunk:
            break
        tokens = (rest + chunk).split(b"\0")
        rest = tokens.pop()
        for tok in tokens:
            if meta is not None:
                if current is None:
                    current = Changes()
                _record(meta, tok.decode("utf-8", "surrogateescape"), current, cfg, matches)
                meta = None
            elif tok[:1] == b":" or tok[:2] == b"\n:":
                meta = tok.lstrip(b"\n")
            elif tok:
                if header is not None:
                    if current is None and quiet is not None and len(header) == 81:
                        quiet.append(header)
                    else:
                        yield header, current if current else None
                    current = None
                header = tok.decode().strip()
    err = proc.stderr.read()
    if thread is not None:
        thread.join()
    if proc.wait() != 0:
        raise GitError(args, proc.returncode, err.decode("utf-8", "replace"))
    if header is not None:
        yield header, current if current else None


def _record(
    meta: bytes, path: str, into: Changes, cfg: JournalConfig, matches: dict[str, bool]
) -> None:
    if path == CONFIG_FILE:
        into.config = True
        return
    hit = matches.get(path)
    if hit is None:
        hit = matches[path] = cfg.matches(path)
    if not hit:
        return
    om, nm, oo, no, _status = meta[1:].decode().split(" ")
    if om != _NO_MODE:
        into.old[path] = (int(om, 8), oo)
    if nm != _NO_MODE:
        into.new[path] = (int(nm, 8), no)


class RangeChecker:
    """The rules for each (commit, parent) pair's changed paths.

    Case and Unicode twins are rare, so they are found without listing directories: every
    journal path added in the range (and every path of the range's boundary parents) is
    indexed under (directory, folded name); only a name that shares a key with another is
    looked up in the trees, once the whole range has been seen."""

    def __init__(self, repo: Any, cfg: JournalConfig) -> None:
        self.repo = repo
        self.odb = repo.odb
        self.cfg = cfg
        self.starts = cfg.starts()
        self._blobs: dict[str, bytes] = {}
        self._names: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._added: list[tuple[str, str | None, str]] = []
        self._seeded: set[str] = set()

    def check(self, commit: str, parent: str | None, changes: Changes) -> list[Violation]:
        if self._plain(commit, parent, changes):
            return []
        found = diff_listings(changes.old, changes.new, self.read, self.cfg, collisions=False)
        for path in changes.new:
            if path not in changes.old:
                self._index(path)
                self._added.append((commit, parent, path))
        return [v.at(commit, parent) for v in found]

    def _plain(self, commit: str, parent: str | None, changes: Changes) -> bool:
        """The common case, without the general machinery: one regular file appended to, or
        added, cleanly. False means: run the full rules."""
        old, new = changes.old, changes.new
        if len(new) != 1 or len(old) > 1:
            return False
        ((path, (mode, oid)),) = new.items()
        was = old.get(path)
        if mode != MODE_FILE or (old and (was is None or was[0] != MODE_FILE)):
            return False
        data = self.read(oid)
        if was is None:
            if content_problems(data) or self.cfg.name_pattern is not None:
                return False
            self._index(path)
            self._added.append((commit, parent, path))
            return True
        before = self.read(was[1])
        return data.startswith(before) and not content_problems(data[len(before) :])

    def read(self, oid: str) -> bytes:
        """A blob's bytes (the last few are kept: a child's old blob is its parent's new)."""
        data = self._blobs.get(oid)
        if data is None:
            data = bytes(self.odb.read(oid)[1])
            if len(self._blobs) > _CACHE:
                self._blobs.clear()
            self._blobs[oid] = data
        return data

    def seed(self, commits: set[str]) -> None:
        """Index the entries of the directories names were added to, as they are in the
        commits the range starts from (a twin may have been there before the range)."""
        if not self._added:
            return  # nothing was added: no twin can have appeared
        dirs = {p.rpartition("/")[0] for _c, _p, path in self._added for p in self._levels(path)}
        specs = sorted(d + "/" for d in dirs if d)
        if "" in dirs or len(specs) > 1000:
            specs = [s + "/" for s in self.starts if s] if "" not in self.starts else []
            recursive = True
        else:
            recursive = False
        for commit in commits - self._seeded:
            self._seeded.add(commit)
            args = ["ls-tree", "-z", "--full-tree", *(["-r", "-t"] if recursive else [])]
            res = git(
                [*args, commit, "--", *specs],
                cwd=Path(self.repo.path),
                env=_env(self.repo, GIT_LITERAL_PATHSPECS="1"),
            )
            for item in res.stdout.split(b"\0"):
                meta, _, raw = item.partition(b"\t")
                path = raw.decode("utf-8", "surrogateescape")
                if not path:
                    continue
                is_tree = meta.split(b" ")[1:2] == [b"tree"]
                if self.cfg.may_contain(path) if is_tree else self.cfg.matches(path):
                    self._index_one(path)

    def collisions(self) -> list[Violation]:
        """Names new in their directory that equal a sibling's but for case or Unicode
        normalisation."""
        found: dict[tuple[str, str | None, str], Violation] = {}
        for commit, parent, path in self._added:
            for prefix in self._levels(path):
                directory, _, name = prefix.rpartition("/")
                twins = self._names[(directory, fold(name))] - {name}
                if not twins or (commit, parent, prefix) in found:
                    continue
                tree = self.repo[commit].tree
                if not any(_exists(tree, f"{directory}/{t}" if directory else t) for t in twins):
                    continue
                if parent is not None and _exists(self.repo[parent].tree, prefix):
                    continue  # not new at this level
                found[(commit, parent, prefix)] = Violation(
                    prefix,
                    Kind.CASE_COLLISION,
                    "another entry differs only by case or Unicode normalisation",
                ).at(commit, parent)
                break
        return list(found.values())

    def _levels(self, path: str) -> list[str]:
        """`path` and its directories below the start directory (whose name is fixed)."""
        parts = path.split("/")
        depth = max(
            (s.count("/") + 1 for s in self.starts if s and path.startswith(s + "/")), default=0
        )
        return ["/".join(parts[: k + 1]) for k in range(depth, len(parts))]

    def _index(self, path: str) -> None:
        for prefix in self._levels(path):
            self._index_one(prefix)

    def _index_one(self, path: str) -> None:
        directory, _, name = path.rpartition("/")
        self._names[(directory, fold(name))].add(name)


def check_pair(repo: Any, cfg: JournalConfig, commit: str, parent: str | None) -> list[Violation]:
    """One commit against one parent (None: the empty tree)."""
    checker = RangeChecker(repo, cfg)
    out = [
        v
        for c, p, changes in _pairs(repo, cfg, [(commit, parent)])
        for v in checker.check(c, p, changes)
    ]
    checker.seed({parent} if parent else set())
    return out + checker.collisions()


def _exists(tree: Any, path: str) -> bool:
    try:
        tree[path]
    except KeyError:
        return False
    return True


def _env(repo: Any, **extra: str) -> dict[str, str]:
    # Replace refs would let a local ref stand in for the commits and trees being verified.
    return clean_env({"GIT_DIR": str(Path(repo.path)), "GIT_NO_REPLACE_OBJECTS": "1", **extra})
