"""`git wt journal check`: the staged change (the index against HEAD, and against every
MERGE_HEAD during a merge), as the pre-commit hook sees it."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.repo import Worktree
from worktree_tools.journal.gate import check_staged_tree, config_for


@dataclass(frozen=True)
class CheckResult:
    tree: str
    parents: list[str]
    config: str

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": "ok",
            "tree": self.tree,
            "parents": self.parents,
            "config": self.config,
            "violations": [],
        }


def staged_index(wt: Worktree, cwd: Path) -> Path:
    """The index being committed: a hook's GIT_INDEX_FILE (git commit and wt-commit set it to
    the index they are about to commit), else the worktree's own."""
    inherited = os.environ.get("GIT_INDEX_FILE")
    if inherited:
        return (cwd / inherited).resolve()
    return wt.index_path


def check(wt: Worktree, cwd: Path) -> CheckResult:
    """Raise JournalViolation when committing the staged index would break the rules."""
    index = staged_index(wt, cwd)
    # write-tree locks the index it reads; a private copy never blocks (or is blocked by)
    # another agent's git process holding index.lock.
    with tempfile.TemporaryDirectory(prefix="wt-journal-", dir=wt.gitdir) as tmp:
        private = Path(tmp) / "index"
        if index.exists():
            shutil.copyfile(index, private)
        res = wt.git(["write-tree"], index=private, check=False)
    if res.returncode != 0:
        raise InvalidInput(
            f"the index cannot be written as a tree: {res.err.strip()}",
            fix="resolve the conflicts (git status), then check again",
        )
    tree = res.out.strip()
    parents = _parents(wt)
    check_staged_tree(wt, parents, tree, ["."])
    return CheckResult(tree=tree, parents=parents, config=config_for(wt, parents, tree).source)


def _parents(wt: Worktree) -> list[str]:
    head = wt.git(["rev-parse", "-q", "--verify", "HEAD^{commit}"], check=False)
    parents = [head.out.strip()] if head.returncode == 0 else []
    merge_head = wt.gitdir / "MERGE_HEAD"
    if merge_head.exists():
        parents += [
            line.strip()
            for line in merge_head.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    return parents
