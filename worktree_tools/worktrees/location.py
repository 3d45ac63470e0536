"""Is a recorded worktree still where its record says, gone, moved by hand, or is that path
now someone else's?

A path is a worktree's only when its `.git` file points at the worktree's own admin dir and that
admin dir names the same owner: a stale record whose path was pruned and allocated again to
another agent, a path git registers for another worktree, or the main worktree never count.

Moves: each worktree's admin dir keeps a hard link (`wt-dotgit`) to the worktree's `.git` file.
A directory moved on the same filesystem keeps that file, so the link count stays 2 wherever
it went; a directory deleted drops it to 1. That proves "its files still exist elsewhere"
without knowing where; a short search near the old place finds the usual moves.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from worktree_tools.core import statefiles
from worktree_tools.core.agent import OWNER_FILE
from worktree_tools.core.statefiles import DOTGIT_LINK as LINK
from worktree_tools.worktrees import gitinfo
from worktree_tools.worktrees.records import Record

_SEARCH_LIMIT = 4000  # directory entries looked at when searching for a moved worktree


class Presence(str, Enum):
    HERE = "here"  # the record's path is this worktree
    GONE = "gone"  # its files no longer exist (removed by hand)
    MOVED = "moved"  # its files exist elsewhere (moved by hand)
    FOREIGN = "foreign"  # the path exists but is not this worktree


@dataclass(frozen=True)
class Where:
    presence: Presence
    detail: str = ""
    moved_to: Path | None = None


def remember(admin: Path, top: Path) -> None:
    """Keep `<admin>/wt-dotgit` a hard link of `<top>/.git` (best effort: a worktree on another
    filesystem cannot have one, and is then judged by the search alone)."""
    link = admin / LINK
    dotgit = top / ".git"
    with contextlib.suppress(OSError):
        if link.exists() and os.path.samefile(link, dotgit):
            return
        tmp = admin / f".{LINK}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        os.link(dotgit, tmp)
        os.replace(tmp, link)


def owner_of(admin: Path) -> str | None:
    try:
        return (admin / OWNER_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _same(a: Path, b: Path) -> bool:
    return os.path.normpath(os.path.realpath(a)) == os.path.normpath(os.path.realpath(b))


def locate(rec: Record, *, managed: bool = True, main: Path | None = None) -> Where:
    """Where `rec`'s worktree is now."""
    path, admin = Path(rec.path), Path(rec.admin_dir)
    owner = owner_of(admin) if managed else None
    ours = admin_is_own(admin, rec, managed)
    if os.path.lexists(path):
        points = gitinfo.admin_dir_of(path) if path.is_dir() and not path.is_symlink() else None
        if main is not None and _same(path, main):
            return Where(Presence.FOREIGN, f"{path} is the main worktree")
        if points is not None and _same(points, admin) and ours:
            return Where(Presence.HERE)
        if points is None:
            what = "is not a linked worktree"
        elif not _same(points, admin):
            what = f"is the worktree of git admin dir {points}"
        else:
            what = f"now belongs to {owner!r}"
        if ours and (moved := moved_to(admin, path)) is not None:
            return Where(Presence.MOVED, f"{path} {what}", moved)
        return Where(Presence.FOREIGN, f"{path} {what}")
    if ours and (moved := moved_to(admin, path)) is not None:
        return Where(Presence.MOVED, "", moved)
    if ours and still_linked(admin):
        return Where(Presence.MOVED)
    return Where(Presence.GONE)


def admin_is_own(admin: Path, rec: Record, managed: bool) -> bool:
    """Whether `admin` is the record's own git admin dir. A managed worktree's always names
    its owner (alloc and adopt write `wt-owner`); another's, or one naming nobody, is not."""
    return admin.is_dir() and (not managed or owner_of(admin) == rec.agent)


def still_linked(admin: Path) -> bool:
    """Whether the worktree's `.git` file still exists somewhere (see the module doc)."""
    try:
        return (admin / LINK).stat().st_nlink >= 2
    except OSError:
        return False


def moved_to(admin: Path, old: Path) -> Path | None:
    """A directory near `old` (two levels under its parent, one under its grandparent) whose
    `.git` file points at `admin`, if there is one."""
    budget = [_SEARCH_LIMIT]

    def search(root: Path, depth: int) -> Path | None:
        try:
            children = sorted(root.iterdir())
        except OSError:
            return None
        for child in children:
            budget[0] -= 1
            if budget[0] < 0:
                return None
            if child == old or child.is_symlink() or not child.is_dir():
                continue
            found = gitinfo.admin_dir_of(child)
            if found is not None and _same(found, admin):
                return child
            if depth > 1 and found is None and not (child / ".git").exists():
                deeper = search(child, depth - 1)
                if deeper is not None:
                    return deeper
        return None

    return search(old.parent, 2) or search(old.parent.parent, 1)


def registered_admin(commondir: Path, path: Path) -> Path | None:
    """The admin dir git keeps for a worktree registered at `path` (its `gitdir` file)."""
    want = os.path.normpath(path / ".git")
    root = commondir / statefiles.GIT_WORKTREES
    try:
        admins = sorted(root.iterdir())
    except OSError:
        return None
    for admin in admins:
        try:
            recorded = (admin / "gitdir").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if os.path.normpath(recorded) == want:
            return admin
    return None


def moved_unmanaged(commondir: Path, path: Path) -> Where | None:
    """For a registered worktree missing from `path`: MOVED when its files still exist."""
    admin = registered_admin(commondir, path)
    if admin is None:
        return None
    found = moved_to(admin, path)
    if found is not None or still_linked(admin):
        return Where(Presence.MOVED, "", found)
    return None
