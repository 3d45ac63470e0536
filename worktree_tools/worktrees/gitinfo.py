"""Read-only questions about worktrees and branches, asked of git (never taking its locks)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from worktree_tools.core.gitcmd import GitResult, git
from worktree_tools.core.repo import Worktree
from worktree_tools.core.wtlist import Listed, worktree_list

__all__ = ["Listed", "worktree_list"]  # the listing lives in core.wtlist

# `git status` runs with GIT_OPTIONAL_LOCKS=0: it would otherwise refresh the index under
# index.lock, and a poll must never make an agent's `git add` fail (RACES.md R13).


def admin_dir_of(path: Path) -> Path | None:
    """A linked worktree's private git dir, read from its `.git` file."""
    try:
        text = (path / ".git").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text.startswith("gitdir: "):
        return None
    return Path(os.path.normpath(path / text[8:]))


@dataclass(frozen=True)
class Dirt:
    staged: int
    unstaged: int
    untracked: int
    conflicted: int

    @property
    def dirty(self) -> int:
        """Tracked files with staged or unstaged changes."""
        return self.staged + self.unstaged + self.conflicted


def dirt(tree: Worktree) -> Dirt:
    res = _status(tree, ["--porcelain=v2", "--ignore-submodules=none"])
    staged = unstaged = untracked = conflicted = 0
    items = res.out.split("\0")
    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if not item:
            continue
        kind = item[0]
        if kind == "?":
            untracked += 1
        elif kind == "u":
            conflicted += 1
        elif kind in "12":
            xy = item[2:4]
            staged += xy[0] != "."
            unstaged += xy[1] != "."
            if kind == "2":
                i += 1  # a rename's original path follows
    return Dirt(staged, unstaged, untracked, conflicted)


def _status(tree: Worktree, args: list[str]) -> GitResult:
    return git(
        ["status", "-z", "--untracked-files=all", *args],
        cwd=tree.toplevel,
        env=tree.env(GIT_OPTIONAL_LOCKS="0"),
        check=False,
    )


def status_entries(tree: Worktree) -> list[dict[str, str]]:
    """Uncommitted paths with their two-letter status, for a handoff."""
    res = _status(tree, ["--porcelain=v1"])
    entries: list[dict[str, str]] = []
    items = res.out.split("\0")
    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if len(item) < 4:
            continue
        entries.append({"status": item[:2], "path": item[3:]})
        if item[0] in "RC":
            i += 1
    return entries


def ignored(tree: Worktree) -> list[str]:
    """Ignored paths (a wholly ignored directory as one entry): what a rescue leaves out."""
    res = _status(tree, ["--porcelain=v1", "--ignored=matching"])
    return [item[3:] for item in res.out.split("\0") if item.startswith("!! ")]


def rev(wt: Worktree, name: str) -> str | None:
    """The commit `name` names, or None."""
    res = wt.git(
        ["rev-parse", "-q", "--verify", "--end-of-options", f"{name}^{{commit}}"], check=False
    )
    return res.out.strip() if res.returncode == 0 and res.out.strip() else None


def base_commit(wt: Worktree, base: str, base_oid: str) -> str:
    """The base to compare with now: the base ref's current commit, or the recorded one."""
    return rev(wt, base) or base_oid


def ahead(wt: Worktree, base: str, head: str) -> int:
    res = wt.git(["rev-list", "--count", f"{base}..{head}"], check=False)
    return int(res.out.strip() or 0) if res.returncode == 0 else 0


def merge_base(wt: Worktree, a: str, b: str) -> str | None:
    res = wt.git(["merge-base", a, b], check=False)
    return res.out.strip() or None if res.returncode == 0 else None


def integrated(wt: Worktree, head: str, base: str) -> bool:
    """Whether everything `head` adds is already in `base`: an ancestor, a squash merge (the
    merged tree equals base's), or cherry-picks/rebases (every commit's patch-id upstream)."""
    if wt.git(["merge-base", "--is-ancestor", head, base], check=False).returncode == 0:
        return True
    merged = wt.git(["merge-tree", "--write-tree", "--no-messages", base, head], check=False)
    if merged.returncode == 0:
        tree = merged.out.split("\n", 1)[0].strip()
        base_tree = wt.git(["rev-parse", f"{base}^{{tree}}"]).out.strip()
        if tree == base_tree:
            return True
    cherry = wt.git(["cherry", base, head], check=False)
    if cherry.returncode == 0:
        lines = [line for line in cherry.out.splitlines() if line.strip()]
        if lines and all(line.startswith("-") for line in lines):
            return True
    return False


def commits(wt: Worktree, base: str, head: str, limit: int = 200) -> list[dict[str, str]]:
    res = wt.git(
        ["log", f"--max-count={limit}", "--format=%H%x00%s", f"{base}..{head}"], check=False
    )
    out = []
    for line in res.out.splitlines():
        oid, _, subject = line.partition("\0")
        out.append({"oid": oid, "subject": subject})
    return out


def changed_files(wt: Worktree, base: str, head: str) -> list[dict[str, str]]:
    res = wt.git(["diff", "--name-status", "-z", "--no-renames", base, head], check=False)
    items = [i for i in res.out.split("\0") if i]
    return [{"status": s, "path": p} for s, p in zip(items[::2], items[1::2], strict=False)]
