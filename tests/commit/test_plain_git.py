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
from conftest import WT_COMMIT, git, git_wt, head, status, write, wt_commit

from .test_concurrency import git_dir, install_hook, wait_for
from .test_races import CONFIG as RACE_CONFIG
from .test_races import HOOK as RACE_HOOK

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


def test_files_hidden_by_another_commits_hooks_are_read_only_once_restored(
    repo: Path, tmp_path: Path
) -> None:
    """A plain `git commit` runs the pre-commit framework through the installed shim: it stashes
    the unstaged x.txt (the file on disk is HEAD's version while the hook runs). wt-commit of
    x.txt meanwhile must not read that stand-in and answer `unchanged`: it waits for the hook
    lock (refusing when its lock timeout runs out first), then commits the restored edit."""
    race_dir = tmp_path / "race"
    race_dir.mkdir()
    hook = tmp_path / "race-hook.sh"
    hook.write_text(RACE_HOOK)
    write(repo, ".pre-commit-config.yaml", RACE_CONFIG.format(hook=hook))
    write(repo, "x.txt", "x1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "pre-commit config")
    installed = subprocess.run(["pre-commit", "install"], cwd=repo, capture_output=True, text=True)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert git_wt(repo, "hooks", "install").returncode == 0
    env = {**os.environ, "RACE_DIR": os.fspath(race_dir), "RACE_WAIT": "go", "RACE_ROLE": "A"}
    write(repo, "x.txt", "x1 edited, not staged\n")
    write(repo, "a.txt", "a\n")
    git(repo, "add", "a.txt")
    plain = subprocess.Popen(
        ["git", "commit", "-qm", "A"], cwd=repo, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_for(race_dir / "started-A")
    assert (repo / "x.txt").read_text() == "x1\n"  # stashed away while the hook runs
    # While the hook runs, wt-commit of x.txt does not read the stand-in: it waits for the
    # hook lock, and with a short timeout gives up naming the hook's holder (today: `unchanged`).
    tip = head(repo)
    waited = wt_commit(
        repo, "--json", "--lock-timeout", "1", "-m", "x", "--", "x.txt",
        env={"RACE_DIR": os.fspath(race_dir), "RACE_ROLE": "B"},
    )  # fmt: skip
    assert waited.returncode == 3, waited.stdout + waited.stderr
    out = json.loads(waited.stdout)
    assert out["outcome"] == "lock_timeout" and "hook lock" in out["error"]
    assert head(repo) == tip
    # A patient wt-commit waits through the hook and commits the restored edit.
    ours = subprocess.Popen(
        [WT_COMMIT, "--json", "-m", "x", "--", "x.txt"], cwd=repo,
        env={**env, "RACE_ROLE": "B", "RACE_WAIT": ""},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    (race_dir / "go").touch()
    assert plain.wait(timeout=60) == 0, plain.stdout and plain.stdout.read()
    stdout, err = ours.communicate(timeout=60)
    assert ours.returncode == 0, err
    assert json.loads(stdout)["outcome"] == "committed"
    assert git(repo, "show", "HEAD:x.txt") == "x1 edited, not staged\n"
    assert git(repo, "show", "HEAD~1:a.txt") == "a\n"
    assert (repo / "x.txt").read_text() == "x1 edited, not staged\n"
