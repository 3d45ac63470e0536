"""The journal rules for one commit about to be made, with git plumbing only (no pygit2):
wt-commit's hot path and the pre-commit check both use it.

Cheap when the commit cannot touch the journal: one `git config --blob` call, then return.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from worktree_tools.core.repo import Worktree
from worktree_tools.core.statefiles import JOURNAL_CONFIG as CONFIG_FILE
from worktree_tools.journal.config import JournalConfig, load
from worktree_tools.journal.rules import (
    Kind,
    Violation,
    check_added,
    check_changed,
    fold,
    mark_renames,
    policy_violations,
    violation_error,
)

Listing = dict[str, tuple[int, str]]  # path -> (mode, oid hex)


def config_for(wt: Worktree, parents: list[str], new_tree: str) -> JournalConfig:
    """The configuration the first parent committed (the new tree's for a root commit), so a
    commit cannot loosen the rules it is checked by."""
    return load(wt.toplevel, parents[0] if parents else new_tree)


def check_staged_tree(
    wt: Worktree, parents: list[str], new_tree: str, touched: Iterable[str]
) -> None:
    """Raise JournalViolation when a commit of `new_tree` on `parents` breaks the journal
    rules. `touched`: the repo-relative paths being committed (a directory stands for all
    below it, "." for everything)."""
    cfg = config_for(wt, parents, new_tree)
    touched = list(touched)
    if not any(cfg.touches(t) for t in touched):
        return
    found: list[Violation] = []
    if parents and any(t in (".", "", CONFIG_FILE) for t in touched):
        # A configuration that does not parse is refused now; one that protects less than
        # every parent's is a violation (checked by each parent's own rules).
        new_cfg = load(wt.toplevel, new_tree)
        olds = [cfg] + [load(wt.toplevel, p) for p in parents[1:]]
        loosened = [policy_violations(old, new_cfg) for old in olds]
        if all(loosened):
            found += [v.at(None, parents[0]) for v in loosened[0]]
    found += check_trees(wt, parents, new_tree, cfg)
    if found:
        raise violation_error(found, "in the staged change", tree=new_tree, parents=parents)


def check_trees(
    wt: Worktree, parents: list[str], new_tree: str, cfg: JournalConfig
) -> list[Violation]:
    """Violations of `new_tree` against every parent (none: against the empty tree)."""
    new = _listing(wt, new_tree, cfg)
    olds: list[tuple[str | None, Listing]] = [(p, _listing(wt, p, cfg)) for p in parents]
    olds = olds or [(None, {})]
    wanted: set[str] = set()
    for _parent, old in olds:
        for path, entry in new.items():
            if old.get(path) != entry:
                wanted.add(entry[1])
                if path in old:
                    wanted.add(old[path][1])
    blobs = _read_blobs(wt, wanted)
    out: list[Violation] = []
    for parent, old in olds:
        found = diff_listings(old, new, lambda oid: blobs.get(oid, b""), cfg)
        out += [v.at(None, parent) for v in found]
    return out


def diff_listings(
    old: Listing,
    new: Listing,
    read: Callable[[str], bytes],
    cfg: JournalConfig,
    collisions: bool = True,
) -> list[Violation]:
    """The rules between two listings of journal paths: full listings, or only the changed
    paths (then `collisions` must be checked by the caller, who can see the siblings)."""
    out: list[Violation] = []
    deleted: list[tuple[str, str]] = []
    added: dict[str, str] = {}
    new_dirs = {p.rsplit("/", 1)[0] for p in new if "/" in p}

    def reader(oid: str) -> Callable[[], bytes]:
        return lambda: read(oid)

    for path in sorted(old.keys() | new.keys()):
        o, n = old.get(path), new.get(path)
        if o == n:
            continue
        if n is None and o is not None:
            prefix = path + "/"
            if path in new_dirs or any(p.startswith(prefix) for p in new):
                out.append(Violation(path, Kind.TYPE_CHANGED, "a file became a directory"))
            else:
                deleted.append((path, o[1]))
        elif o is None and n is not None:
            added[n[1]] = path
            out += check_added(path, n[0], reader(n[1]), cfg)
        elif o is not None and n is not None:
            out += check_changed(path, o[0], n[0], reader(o[1]), reader(n[1]), o[1] == n[1])
    if collisions:
        out += _collisions(old, new, cfg)
    return out + mark_renames(deleted, added)


def _collisions(old: Listing, new: Listing, cfg: JournalConfig) -> list[Violation]:
    """New names that equal a sibling's but for case or Unicode normalisation."""
    old_prefixes = {p for path in old for p in _prefixes(path)}
    siblings: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in new:
        for prefix in _prefixes(path):
            parent, _, name = prefix.rpartition("/")
            siblings[(parent, fold(name))].add(name)
    found: dict[str, Violation] = {}
    starts = cfg.starts()
    for path in new:
        if path in old:
            continue
        depth = max((s.count("/") + 1 for s in starts if s and path.startswith(s + "/")), default=0)
        for prefix in _prefixes(path)[depth:]:
            if prefix in old_prefixes or prefix in found:
                continue
            parent, _, name = prefix.rpartition("/")
            if len(siblings[(parent, fold(name))]) > 1:
                found[prefix] = Violation(
                    prefix,
                    Kind.CASE_COLLISION,
                    "another entry differs only by case or Unicode normalisation",
                )
    return list(found.values())


def _prefixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _listing(wt: Worktree, tree: str, cfg: JournalConfig) -> Listing:
    starts = cfg.starts()
    args = ["ls-tree", "-r", "-z", "--full-tree", tree]
    if "" not in starts:
        args += ["--", *starts]
    res = wt.git(args, literal=True)
    out: Listing = {}
    for item in res.stdout.split(b"\0"):
        if not item:
            continue
        meta, _, raw_path = item.partition(b"\t")
        mode, _type, oid = meta.split(b" ")
        path = raw_path.decode("utf-8", "surrogateescape")
        if cfg.matches(path):
            out[path] = (int(mode, 8), oid.decode())
    return out


def _read_blobs(wt: Worktree, oids: set[str]) -> dict[str, bytes]:
    """Blob contents in one `git cat-file --batch` call (submodule commits are skipped)."""
    if not oids:
        return {}
    res = wt.git(["cat-file", "--batch"], input="".join(o + "\n" for o in sorted(oids)).encode())
    data, out, pos = res.stdout, {}, 0
    while pos < len(data):
        eol = data.index(b"\n", pos)
        header = data[pos:eol].split(b" ")
        pos = eol + 1
        if len(header) != 3:  # "<oid> missing"
            continue
        size = int(header[2])
        if header[1] == b"blob":
            out[header[0].decode()] = data[pos : pos + size]
        pos += size + 1
    return out
