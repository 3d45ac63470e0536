"""alloc, gc, rescue and restore in a SHA-256 repository."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import git, git_wt, write

from .helpers import alloc, files_of, kill, rescues, spawn_owner, wt_json


def test_alloc_gc_rescue_restore(sha256_repo: Path) -> None:
    owner = spawn_owner()
    path = alloc(sha256_repo, "a1", owner=owner.pid)
    write(path, "work.txt", "uncommitted\n")
    git(path, "add", "work.txt")
    write(path, "loose.txt", "untracked\n")
    before = files_of(path)
    kill(owner)
    res = git_wt(sha256_repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    item = json.loads(res.stdout)["worktrees"][0]
    assert item["action"] == "removed" and not path.exists()
    [saved] = rescues(sha256_repo)
    assert len(saved["commit"]) == 64
    restored = wt_json(sha256_repo, "rescue", "restore", saved["id"])
    assert Path(restored["worktree"]) == path and files_of(path) == before
