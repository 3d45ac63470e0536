"""The journal in a SHA-256 repository: history checks that need pygit2 refuse up front with one
clear message (pygit2's libgit2 cannot read such a repository), never a traceback or a pass."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pygit2
import pytest
from conftest import GIT_WT, git, git_wt, head

from worktree_tools.core.repo import discover, empty_tree, null_oid


def _pygit2_reads(repo: Path) -> bool:
    try:
        pygit2.Repository(os.fspath(repo))
    except Exception:
        return False
    return True


def test_null_id_and_empty_tree_follow_the_format(sha256_repo: Path, repo: Path) -> None:
    assert len(empty_tree(discover(sha256_repo))) == 64
    assert empty_tree(discover(repo)) == git(repo, "hash-object", "-t", "tree", "/dev/null").strip()
    assert null_oid(head(sha256_repo).strip()) == "0" * 64


def test_verify_and_pre_push_refuse_with_one_message(sha256_repo: Path) -> None:
    if _pygit2_reads(sha256_repo):
        pytest.skip("this pygit2 reads SHA-256 repositories: the usual tests apply")
    proc = git_wt(sha256_repo, "journal", "verify", "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    out = json.loads(proc.stdout)
    assert out["object_format"] == "sha256" and "not verified" in out["error"] and out["fix"]
    tip = head(sha256_repo).strip()
    push = subprocess.run(
        [GIT_WT, "journal", "pre-push", "--json", "origin"],
        cwd=sha256_repo, input=f"refs/heads/main {tip} refs/heads/main {'0' * 64}\n",
        capture_output=True, text=True, env=os.environ,
    )  # fmt: skip
    assert push.returncode == 1 and "not verified" in json.loads(push.stdout)["error"]
