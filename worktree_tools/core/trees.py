"""The one replay: put our paths onto a tip that moved, when the tip did not touch them.

wt-commit (a branch moved while committing) and `wt-commit --push` (the remote moved) both ask
the same two questions: which of our paths changed between the base we built on and the new tip
(`changed`), and what is the new tip's tree with our paths set to our commit's (`overlay`).
Both are linear in the number of paths: no pathspecs (git would match every changed path
against every named one); the selection is done on entries as data (core/entries.py).

On wt-commit's hot path: no pygit2, no psutil.
"""

from __future__ import annotations

import os

from worktree_tools.core import treeedit
from worktree_tools.core.entries import covered, differences, tree_entries
from worktree_tools.core.repo import Worktree


def changed(wt: Worktree, base: str, tip: str, rels: list[str]) -> list[str]:
    """Paths that differ between `base` and `tip` and that `rels` cover (a directory covers
    what is in it, '.' everything); every changed path when `rels` is empty."""
    res = wt.git(["diff-tree", "-r", "--name-only", "--no-renames", "-z", base, tip])
    names = [n for n in map(os.fsdecode, res.stdout.split(b"\0")) if n]
    if not rels:
        return names
    named = frozenset(rels)
    return [n for n in names if covered(n, named)]


def overlay(wt: Worktree, onto: str, ours: str, rels: list[str]) -> str:
    """The tree of `onto` with the paths `rels` cover as they are in `ours` (edited directory by
    directory: no index of the whole tree is read or written)."""
    base = wt.git(["rev-parse", "--verify", "--end-of-options", f"{onto}^{{tree}}"]).out.strip()
    if not rels:
        return base
    want, have = tree_entries(wt, ours, rels), tree_entries(wt, onto, rels)
    return treeedit.edit(wt, base, differences(want, have, frozenset(rels)))
