"""Paths git would convert on the way in (a clean filter, `text`/`eol`/`ident`/
`working-tree-encoding` attributes, `core.autocrlf`): staged by git's own `git add`, over a
private copy of the bytes we read, so that they get exactly git's conversion and still never
a byte from outside the worktree.
"""

from __future__ import annotations

import os

from worktree_tools.commit.read import Found, Kind, SafeTree
from worktree_tools.core.entries import Entry, apply, covered, index_entries, tree_entries
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.gitcmd import nul_join
from worktree_tools.core.repo import Worktree
from worktree_tools.core.scratch import remove_tree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from worktree_tools.commit.build import Settings

ATTRS = ("filter", "text", "eol", "crlf", "ident", "working-tree-encoding")
ATTRIBUTES_FILE = ".gitattributes"


def converted(
    wt: Worktree,
    tree: SafeTree,
    head: dict[str, Entry],
    found: dict[str, Found],
    settings: Settings,
) -> set[str]:
    files = [p for p, f in found.items() if f.kind == Kind.FILE]
    if not files or not _may_convert(wt, tree, head, found, settings):
        return set()
    res = wt.git(["check-attr", "-z", "--stdin", *ATTRS], input=nul_join(files))
    fields = [os.fsdecode(f) for f in res.stdout.split(b"\0")]
    attrs: dict[str, dict[str, str]] = {}
    for i in range(0, len(fields) - 2, 3):
        attrs.setdefault(fields[i], {})[fields[i + 1]] = fields[i + 2]
    auto = settings.autocrlf in ("true", "input")
    out = set()
    for path in files:
        a = attrs.get(path, {})
        binary = a.get("text") == "unset" or a.get("crlf") == "unset"
        if (
            a.get("filter", "unspecified") not in ("unspecified", "unset")
            or a.get("ident") == "set"
            or a.get("working-tree-encoding", "unspecified") != "unspecified"
            or (not binary and a.get("text", "unspecified") != "unspecified")
            or (not binary and a.get("eol", "unspecified") != "unspecified")
            or (not binary and a.get("crlf", "unspecified") not in ("unspecified", "unset"))
            or (auto and not binary)
        ):
            out.add(path)
    return out


def _may_convert(
    wt: Worktree,
    tree: SafeTree,
    head: dict[str, Entry],
    found: dict[str, Found],
    settings: Settings,
) -> bool:
    """Cheap test: is there any attribute source or autocrlf at all? (Most repositories have
    none; then check-attr is not run.)"""
    if settings.autocrlf in ("true", "input"):
        return True
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.environ.get("HOME", "/"), ".config")
    sources = [
        os.path.join(wt.commondir_str, "info", "attributes"),
        os.path.join(home, "git", "attributes"),
    ]
    if settings.attributes_file:
        sources.append(os.path.expanduser(settings.attributes_file))
    if not os.environ.get("GIT_ATTR_NOSYSTEM"):
        sources += ["/etc/gitattributes", "/usr/etc/gitattributes"]
    if any(os.path.exists(s) for s in sources):
        return True
    if any(p.rpartition("/")[2] == ATTRIBUTES_FILE for p in (*head, *found)):
        return True
    dirs = {p.rpartition("/")[0] for p in found}
    return any(tree.read(_join(d, ATTRIBUTES_FILE)).kind == Kind.FILE for d in _with_parents(dirs))


def stage_through_git(
    wt: Worktree,
    tip: str | None,
    tip_tree: str,
    tree: SafeTree,
    files: dict[str, Found],
    head: dict[str, Entry],
    changes: list[tuple[str, Entry | None]],
    rels: list[str],
    tmp: str | os.PathLike[str],
) -> list[tuple[str, Entry | None]]:
    """The entries `git add` makes of `files` over a private copy (the bytes we read, plus the
    .gitattributes files that apply), so git's own conversion runs and nothing outside the
    worktree can be reached.

    git adds them to an index seeded with what it would consult there: the files' entries in
    the tip (a kept mode when core.fileMode is false) and the .gitattributes on their way, as
    this commit leaves them (git reads one from the index when the worktree has none)."""
    snap = os.path.join(tmp, "snapshot")
    index = os.path.join(tmp, "convert-index")
    attrs = [
        _join(d, ATTRIBUTES_FILE) for d in _with_parents({p.rpartition("/")[0] for p in files})
    ]
    planned = dict(changes)
    named = frozenset(rels)
    outside = [a for a in attrs if a not in planned and not covered(a, named)]
    elsewhere = tree_entries(wt, tip, outside) if outside and tip else {}
    seed: list[tuple[str, Entry | None]] = []
    for path in [*files, *attrs]:
        entry = planned[path] if path in planned else head.get(path) or elsewhere.get(path)
        if entry is not None:
            seed.append((path, entry))
    apply(wt, index, seed, len(tip_tree))
    try:
        for a in attrs:
            found = tree.read(a)
            if found.kind == Kind.FILE:
                _write(snap, a, found)
        for path, f in files.items():
            _write(snap, path, f)
        res = wt.git(
            ["--work-tree", snap, "add", "--pathspec-from-file=-",
             "--pathspec-file-nul"],
            index=index,
            input=nul_join(list(files)),
            literal=True,
            check=False,
        )  # fmt: skip
        if res.returncode != 0:
            from worktree_tools.guard.suggest import without_hints

            raise InvalidInput(f"git refused the paths: {without_hints(res.err)}")
    finally:
        remove_tree(snap)
    staged = index_entries(wt, index)
    from contextlib import suppress  # a path git converts only: not at import time

    with suppress(FileNotFoundError):
        os.unlink(index)
    missed = [p for p in files if staged.get(p) is None]
    if missed:
        raise InvalidInput("git did not stage: " + ", ".join(repr(p) for p in missed[:10]))
    return [(p, staged[p]) for p in files]


def _write(root: str, rel: str, found: Found) -> None:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(found.data)
    os.chmod(path, 0o755 if found.executable else 0o644)


def _join(d: str, name: str) -> str:
    return f"{d}/{name}" if d else name


def _with_parents(dirs: set[str]) -> Iterator[str]:
    seen: set[str] = set()
    for d in dirs:
        while d not in seen:
            seen.add(d)
            yield d
            if not d:
                break
            d = d.rpartition("/")[0]
