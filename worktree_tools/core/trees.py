"""The one replay: put our paths onto a tip that moved, when the tip did not touch them.

wt-commit (a branch moved while committing) and `wt-commit --push` (the remote moved) both ask
the same two questions: which of our paths changed between the base we built on and the new tip
(`changed`), and what is the new tip's tree with our paths set to our commit's (`overlay`).

On wt-commit's hot path: no pygit2, no psutil.
"""

from __future__ import annotations

import os
from pathlib import Path

from worktree_tools.core.gitcmd import nul_join
from worktree_tools.core.repo import Worktree


def changed(wt: Worktree, base: str, tip: str, rels: list[str]) -> list[str]:
    """Paths among `rels` that differ between `base` and `tip` (every path when `rels` is empty)."""
    res = wt.git(
        ["diff-tree", "-r", "-z", "--name-only", "--no-renames", base, tip, "--", *rels],
        literal=True,
    )
    return [os.fsdecode(n) for n in res.stdout.split(b"\0") if n]


def overlay(wt: Worktree, onto: str, ours: str, rels: list[str], index: Path) -> str:
    """The tree of `onto` with the paths `rels` as they are in `ours`, built in the scratch
    index file `index` (removed afterwards)."""
    wt.git(["read-tree", onto], index=index)
    if rels:
        wt.git(
            ["reset", "-q", ours, "--pathspec-from-file=-", "--pathspec-file-nul"],
            index=index,
            input=nul_join(rels),
            literal=True,
        )
    tree = wt.git(["write-tree"], index=index).out.strip()
    index.unlink(missing_ok=True)
    return tree
