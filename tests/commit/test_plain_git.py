"""wt-commit against plain git run at the same time in the same worktree (issue 10).

The windows are opened by a pre-commit hook that waits for a release file: plain git runs while
the hook waits, then the hook is released and wt-commit must either land on the branch it
reports, with the worktree's index consistent with what is checked out, or refuse with nothing
changed.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import WT_COMMIT, git, head, status, write, wt_commit

from .test_concurrency import git_dir, install_hook, wait_for

SLOW_HOOK = """#!/bin/sh
touch "$SLOW_DIR/started"
i=0
while [ ! -e "$SLOW_DIR/go" ]; do
    i=$((i+1)); [ $i -gt 1200 ] && { echo "slow hook: never released" >&2; exit 1; }
    sleep 0.05
done
exit 0
"""


def start_slow_commit(repo: Path, tmp_path: Path, *paths: str) -> subprocess.Popen[str]:
    """wt-commit of `paths` with its pre-commit hook waiting; returns once the hook runs."""
    slow = tmp_path / "slow"
    slow.mkdir()
    install_hook(repo, "pre-commit", SLOW_HOOK)
    proc = subprocess.Popen(
        [WT_COMMIT, "--json", "-m", "ours", "--", *paths],
        cwd=repo,
        env={**os.environ, "SLOW_DIR": os.fspath(slow)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(slow / "started")
    return proc


def release(tmp_path: Path, proc: subprocess.Popen[str]) -> tuple[int, dict[str, object], str]:
    (tmp_path / "slow" / "go").touch()
    out, err = proc.communicate(timeout=60)
    return proc.returncode, json.loads(out), err


def test_rebase_started_during_the_commit_is_refused_and_nothing_moves(
    repo: Path, tmp_path: Path
) -> None:
    write(repo, "second.txt", "2\n")
    git(repo, "add", "second.txt")
    git(repo, "commit", "-qm", "second")
    tip = head(repo)
    write(repo, "new.txt", "our new file\n")
    proc = start_slow_commit(repo, tmp_path, "new.txt")
    # A rebase that stops (its exec fails): HEAD detached, rebase-merge/ in the git dir.
    rebase = subprocess.run(
        ["git", "rebase", "-q", "--exec", "false", "HEAD~1"], cwd=repo, capture_output=True
    )
    assert rebase.returncode != 0 and (git_dir(repo) / "rebase-merge").is_dir()
    index_before = (git_dir(repo) / "index").read_bytes()
    rc, out, err = release(tmp_path, proc)

    assert rc == 4, err
    assert out["outcome"] == "conflict" and "rebase" in str(out["error"])
    assert head(repo, "main") == tip  # the branch did not move
    assert (git_dir(repo) / "index").read_bytes() == index_before  # nor did the index
    git(repo, "rebase", "--abort")
    assert head(repo, "main") == tip
    assert (repo / "new.txt").read_text() == "our new file\n"  # the work is still on disk
    assert "?? new.txt" in status(repo)
    # Once the rebase is over, the same command commits it.
    again = subprocess.run([WT_COMMIT, "-n", "-m", "ours", "--", "new.txt"], cwd=repo)
    assert again.returncode == 0
    assert git(repo, "show", "main:new.txt") == "our new file\n"


def test_checkout_during_the_commit_is_refused_and_the_index_stays_the_other_branchs(
    repo: Path, tmp_path: Path
) -> None:
    git(repo, "branch", "other")
    write(repo, "new.txt", "our new file\n")
    write(repo, "src/app.py", "print('v2')\n")
    main_tip = head(repo)
    proc = start_slow_commit(repo, tmp_path, "new.txt")
    switched = subprocess.run(["git", "checkout", "-q", "other"], cwd=repo, capture_output=True)
    assert switched.returncode == 0, switched.stderr
    index_before = (git_dir(repo) / "index").read_bytes()
    rc, out, err = release(tmp_path, proc)

    assert rc == 4, err
    assert out["outcome"] == "conflict" and "switched from main to other" in str(out["error"])
    assert head(repo, "main") == main_tip and head(repo, "other") == main_tip
    assert (git_dir(repo) / "index").read_bytes() == index_before
    # Nothing is staged on `other`: the new file is untracked, the edit unstaged.
    assert sorted(status(repo).split("\0")) == ["", " M src/app.py", "?? new.txt"]


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("merge", "MERGE_HEAD"),
        ("cherry-pick", "CHERRY_PICK_HEAD"),
        ("revert", "REVERT_HEAD"),
        ("bisect", "BISECT_LOG"),
    ],
)
def test_an_operation_begun_during_the_commit_is_refused(
    repo: Path, tmp_path: Path, name: str, marker: str
) -> None:
    """The same re-check for every in-progress state git records (marked by hand here: the
    rebase and checkout tests above run real git)."""
    write(repo, "new.txt", "n\n")
    tip = head(repo)
    proc = start_slow_commit(repo, tmp_path, "new.txt")
    (git_dir(repo) / marker).write_text(tip + "\n")
    index_before = (git_dir(repo) / "index").read_bytes()
    rc, out, err = release(tmp_path, proc)
    assert rc == 4, err
    assert name in str(out["error"])
    assert head(repo) == tip
    assert (git_dir(repo) / "index").read_bytes() == index_before


@pytest.mark.parametrize("inherited", ["GIT_DIR", "GIT_DIR+GIT_WORK_TREE"])
def test_git_dir_inherited_from_another_repositorys_hook_is_refused(
    repo: Path, tmp_path: Path, inherited: str
) -> None:
    """A hook of repository A runs an agent that works in B: A's GIT_DIR (and GIT_WORK_TREE)
    are in its environment. Git would commit B's file into A; wt-commit says why it refuses."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    write(other, "b.txt", "b\n")
    git(other, "add", "b.txt")
    git(other, "commit", "-qm", "b")
    write(other, "theirs.txt", "B's new file\n")
    env = {"GIT_DIR": os.fspath(repo / ".git")}
    if inherited == "GIT_DIR+GIT_WORK_TREE":
        env["GIT_WORK_TREE"] = os.fspath(repo)
    before = (head(repo), head(other), status(repo), status(other))
    proc = wt_commit(other, "--json", "-m", "x", "--", "theirs.txt", env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert "GIT_DIR=" in out["error"] and "refusing to commit into" in out["error"]
    assert out["fix"].startswith("unset GIT_DIR GIT_WORK_TREE")
    assert (head(repo), head(other), status(repo), status(other)) == before
    # The same variables naming the repository we are in are honoured.
    own = {"GIT_DIR": os.fspath(other / ".git")}
    if inherited == "GIT_DIR+GIT_WORK_TREE":
        own["GIT_WORK_TREE"] = os.fspath(other)
    proc = wt_commit(other, "-m", "x", "--", "theirs.txt", env=own)
    assert proc.returncode == 0, proc.stderr
    assert git(other, "show", "HEAD:theirs.txt") == "B's new file\n"
