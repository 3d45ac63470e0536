"""Stage the named paths from the bytes we read, as `git add -A` would, into a new tree.

The tree is the tip's tree with each named path set as it is on disk (a directory names what
git would add under it: its tracked files and its untracked files that are not ignored). Each
path is read through a path that cannot follow a link (see read); the bytes read become blobs
(see blobs) and the entries are set in the tip's tree directory by directory (core/treeedit),
so no index of the whole repository is read or written: a commit of one file in a 100,000-file
repository costs what its directories cost. Paths that git would convert on the way in are
staged by git itself (see convert).
"""

from __future__ import annotations

import os

from worktree_tools.commit import blobs, convert
from worktree_tools.commit.read import MISSING, Found, Kind, SafeTree
from worktree_tools.commit.tip import tip_entries
from worktree_tools.core import atomic, treeedit
from worktree_tools.core.entries import (
    GITLINK,
    PATHSPEC_LIMIT,
    Entry,
    apply,
    covered,
    index_entries,
    tree_entries,
)
from worktree_tools.core.errors import InvalidInput, PathRefused
from worktree_tools.core.gitcmd import nul_join
from worktree_tools.core.repo import Worktree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from worktree_tools.commit.build import Settings
    from worktree_tools.core.catfile import CatFile
    from worktree_tools.core.loose import LooseObjects

LINK = "120000"


def stage_paths(
    wt: Worktree,
    tip: str | None,
    tip_tree: str,
    rels: list[str],
    settings: Settings,
    tmp: str | os.PathLike[str],
    objects: CatFile,
    store: LooseObjects | None = None,
) -> str:
    """The tree to commit: the tip's tree with the named paths as they are on disk. `objects`
    reads the tip's trees: the named paths' entries, then the directories the edit rewrites;
    `store` writes the blobs and trees in this process (else git does)."""
    # An index file never written: git's listings then know no tracked file (those come from
    # the tip's tree), and nothing reads the 100,000 entries of a large repository's index.
    empty = os.path.join(tmp, "empty-index")
    head, listed = _listing(wt, empty, objects, tip, tip_tree, rels)
    with SafeTree(wt.toplevel_str) as tree:
        found = _collect(wt, empty, tree, head, listed, rels)
        converted = convert.converted(wt, tree, head, found, settings)
        plain = [(p, f) for p, f in found.items() if f.kind != Kind.MISSING and p not in converted]
        oids = blobs.write_blobs(wt, [f.data for _, f in plain], tmp, store)
        changes: list[tuple[str, Entry | None]] = []
        for (path, f), oid in zip(plain, oids, strict=True):
            changes.append((path, Entry(_mode(f, head.get(path), settings), oid)))
        changes += [(p, None) for p, f in found.items() if f.kind == Kind.MISSING]
        _refuse_invalid_names(wt, head, changes, tmp, len(tip_tree))
        if converted:
            ours = {p: found[p] for p in converted}
            changes += convert.stage_through_git(
                wt, tip, tip_tree, tree, ours, head, changes, rels, tmp
            )
    return treeedit.edit(wt, tip_tree, changes, objects, store)


def _refuse_invalid_names(
    wt: Worktree,
    head: dict[str, Entry],
    changes: list[tuple[str, Entry | None]],
    tmp: str | os.PathLike[str],
    oid_len: int,
) -> None:
    """Refuse, as `git add` does, a name git will not put in a tree (`GIT~1` or `.git.` under
    core.protectNTFS, a `.gitmodules` link...): git's own check, `verify_path`, run by one
    `git update-index --index-info` into a scratch index, which skips such a name. Asked only
    about links and new names that are not plainly valid: most commits run nothing."""
    new: list[tuple[str, Entry | None]] = [
        (p, e)
        for p, e in changes
        if e is not None and (e.mode == LINK or (p not in head and not plainly_valid(p)))
    ]
    if not new:
        return
    scratch = os.path.join(tmp, "names-index")
    apply(wt, scratch, new, oid_len)
    if _entry_count(scratch) == len(new):
        return
    kept = index_entries(wt, scratch)
    invalid = [p for p, _ in new if p not in kept]
    raise PathRefused(
        "git refuses these names (invalid path, as `git add` says): "
        + ", ".join(repr(p) for p in invalid[:10]),
        fix="rename them (git will not track them on any system), then run the same "
        "wt-commit again",
        invalid_paths=invalid,
    )


# Every rule of git's verify_path (`.git`, `..`, NTFS `.git.`/`git~1`/backslash segments, HFS
# ignorable characters before `.git`) needs a leading dot, a `~`, a backslash or a character
# outside ASCII in some component: a name without them passes it. A plain component is
# `[A-Za-z0-9_][A-Za-z0-9_.+-]*` (ASCII), tested with str methods: no `re` on the hot path.
_PLAIN_FIRST = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
_PLAIN_REST = _PLAIN_FIRST + ".+-"


def plainly_valid(path: str) -> bool:
    """Whether git's path check is sure to accept `path` as a file's name (not a link's)."""
    for part in path.split("/"):
        if not part or part[0] not in _PLAIN_FIRST or part.strip(_PLAIN_REST):
            return False
    return True


def _entry_count(index: str | os.PathLike[str]) -> int | None:
    """The number of entries an index file declares (its header), None if it has none."""
    try:
        with open(index, "rb") as f:
            header = f.read(12)
    except OSError:
        return None
    if len(header) != 12 or header[:4] != b"DIRC":
        return None
    return int.from_bytes(header[8:12], "big")


def private_index(wt: Worktree, priv: str | os.PathLike[str], tree: str) -> None:
    """`priv` holding exactly `tree`, for hooks that run in place. Started from a copy of the
    worktree's index by `git read-tree -m -i TREE` (one tree: the entries are the tree's, and an
    unchanged one keeps its stat data, so the hook's first `git diff` or `git status` does not
    re-read every tracked file: 10 s at 100,000 files); from nothing when that index cannot be
    used (absent, unmerged, unreadable)."""
    try:
        # a copy: a hook's tool may write it in place
        atomic.copy_file(wt.index_str, priv, durable=False)
    except OSError:
        pass
    else:
        # -i: the worktree's files are not this index's business (the named ones differ)
        if wt.git(["read-tree", "-m", "-i", tree], index=priv, check=False).returncode == 0:
            return
    if os.path.lexists(priv):
        os.unlink(priv)
    wt.git(["read-tree", tree], index=priv)


def _listing(
    wt: Worktree, empty: str, objects: CatFile, tip: str | None, tip_tree: str, rels: list[str]
) -> tuple[dict[str, Entry], _Listed | None]:
    """The tip's entries covering `rels`; with few paths also what `git add` would find
    untracked at or under them (else None: `_untracked` lists them for the directories).

    Only the paths the tip does not have are listed: a tracked file needs no ignore check
    (`git add -A` stages it whatever .gitignore says), so a commit of modified files runs no
    `ls-files` at all."""
    if "." in rels or len(rels) > PATHSPEC_LIMIT:
        return tree_entries(wt, tip), None
    head = tip_entries(wt, objects, tip, tip_tree, rels)
    asked = [r for r in rels if r not in head]
    if not asked:
        return head, _Listed([], asked)
    res = wt.git(
        ["ls-files", "-z", "--others", "--exclude-standard", "--", *asked],
        index=empty,
        literal=True,
    )
    return head, _Listed(_not_tracked(res.stdout, head), asked)


class _Listed:
    """What `ls-files --others` found untracked at or under the named paths `asked`."""

    __slots__ = ("asked", "others")

    def __init__(self, others: list[str], asked: list[str]) -> None:
        self.others = others
        self.asked = frozenset(asked)


def _not_tracked(listing: bytes, head: dict[str, Entry]) -> list[str]:
    """Paths of an `ls-files --others` over an empty index that the tip does not track (a
    tracked file, or a submodule's checkout listed as `sub/`, is not untracked)."""
    out = []
    for item in listing.split(b"\0"):
        if not item:
            continue
        path = os.fsdecode(item)
        submodule = head.get(path[:-1]) if path.endswith("/") else None
        if path not in head and (submodule is None or submodule.mode != GITLINK):
            out.append(path)
    return out


def _collect(
    wt: Worktree,
    empty: str,
    tree: SafeTree,
    head: dict[str, Entry],
    listed: _Listed | None,
    rels: list[str],
) -> dict[str, Found]:
    """What each path git would stage is now: its bytes, or MISSING (to be removed)."""
    found: dict[str, Found] = {}
    dirs: list[str] = []
    missing: list[str] = []
    for rel in rels:
        what = Found(Kind.DIR) if rel == "." else tree.read(rel)
        if what.kind == Kind.DIR:
            dirs.append(rel)
        elif what.kind == Kind.MISSING and rel not in head:
            missing.append(rel)
        else:
            found[rel] = what
    if missing:
        _deleted_or_unknown(wt, head, missing, dirs)
    if dirs:
        named = frozenset(dirs)
        for path, entry in head.items():
            if entry.mode != GITLINK and path not in found and covered(path, named):
                found[path] = _as_entry(tree.read(path))
        if listed is not None and listed.asked.issuperset(dirs):
            under = [p for p in listed.others if covered(p.rstrip("/"), named)]
        else:  # many paths, or a tracked file that is now a directory (a submodule's too)
            under = _untracked(wt, empty, head, dirs)
        for path in under:
            if path.endswith("/"):
                raise PathRefused(
                    f"{path.rstrip('/')} is a git repository nested in this worktree; "
                    "wt-commit does not commit it as an embedded repository",
                    fix=f"name the paths outside it, or add it as a submodule: "
                    f"git submodule add ./{path.rstrip('/')}",
                    nested_repository=path.rstrip("/"),
                )
            found.setdefault(path, tree.read(path))
    given = set(rels)
    new = [p for p, f in found.items() if p in given and p not in head and f.kind != Kind.MISSING]
    if listed is None:
        _refuse_ignored(wt, empty, new)
    else:  # every new path was asked about (the tip does not have it): not listed, ignored
        untracked = set(listed.others)
        _refuse_listed_ignored([p for p in new if p not in untracked])
    return found


def _as_entry(found: Found) -> Found:
    # A tracked file that became a directory is removed (its files are untracked, listed apart).
    return MISSING if found.kind == Kind.DIR else found


def _deleted_or_unknown(
    wt: Worktree, head: dict[str, Entry], missing: list[str], dirs: list[str]
) -> None:
    """A missing path is fine when it is a deleted directory of HEAD (its files are removed)
    or a path staged in the worktree's index (landing unstages it); else it is a typo."""
    unknown = []
    head_dirs = _ancestors(head)
    dirs.extend(m for m in missing if m in head_dirs)
    rest = [m for m in missing if m not in head_dirs]
    if rest:
        staged = index_entries(wt, wt.index_str, rest)
        staged_paths = set(staged) | _ancestors(staged)
        unknown = [m for m in rest if m not in staged_paths]
    if unknown:
        raise InvalidInput(
            "path neither exists nor is tracked: " + ", ".join(repr(u) for u in unknown)
        )


def _ancestors(paths: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for path in paths:
        while "/" in path:
            path = path.rpartition("/")[0]
            if path in out:
                break
            out.add(path)
    return out


def _untracked(wt: Worktree, empty: str, head: dict[str, Entry], dirs: list[str]) -> list[str]:
    """Files under `dirs` that HEAD does not track and no ignore rule hides (git add's view);
    a nested repository is listed as `dir/`."""
    res = wt.git(
        ["ls-files", "-z", "--others", "--exclude-standard", "--", *dirs], index=empty, literal=True
    )
    return _not_tracked(res.stdout, head)


def _refuse_ignored(wt: Worktree, empty: str, named: list[str]) -> None:
    if not named:
        return
    res = wt.git(["check-ignore", "-z", "--stdin"], index=empty, input=nul_join(named), check=False)
    _refuse_listed_ignored([os.fsdecode(p) for p in res.stdout.split(b"\0") if p])


def _refuse_listed_ignored(ignored: list[str]) -> None:
    if ignored:
        raise PathRefused(
            "ignored by a .gitignore rule (git add refuses them too): "
            + ", ".join(repr(p) for p in ignored[:10]),
            fix="remove the rule (or add a negation `!PATH` to .gitignore), then run the same "
            "wt-commit again",
        )


def _mode(found: Found, head: Entry | None, settings: Settings) -> str:
    if found.kind == Kind.LINK:
        return LINK
    if not settings.filemode:  # core.fileMode false: the exec bit on disk means nothing
        return head.mode if head is not None and head.mode in ("100644", "100755") else "100644"
    return "100755" if found.executable else "100644"
