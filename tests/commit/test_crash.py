"""SIGKILL anywhere: wt-commit killed at each of its fault points leaves no half-made commit and
no lock in the way, and the same command run again finishes the job. Git's own index.lock is
removed only when no live process can hold it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import committed_files, git, head, write, wt_commit

from .test_concurrency import (
    BLOCKING_HOOK,
    NO_OPTIONAL_LOCKS,
    Scene,
    assert_fsck_clean,
    assert_no_leftovers,
    git_dir,
    install_hook,
    read_events,
    stage_entries,
    wait_for,
)

OURS = ["src/app.py", "feature/new.py"]
# Where each fault point sits: the index.lock is held at the two inside the critical section; the
# worktree's index already holds our paths from index-synced on; the branch moved at landed.
HOLDS_INDEX_LOCK = {"locked", "index-synced"}
INDEX_SYNCED = {"index-synced", "landed"}
POINTS = ["staged", "built", "locked", "index-synced", "landed"]


def blobs_on_disk(repo: Path, rels: list[str]) -> list[str]:
    return git(repo, "hash-object", "--", *rels).split()


def index_blobs(repo: Path, rels: list[str]) -> dict[str, str]:
    out = {}
    for line in stage_entries(repo, rels).splitlines():
        meta, path = line.split("\t", 1)
        out[path] = meta.split()[1]
    return out


def tree_blobs(repo: Path, rev: str, rels: list[str]) -> dict[str, str]:
    out = {}
    for line in git(repo, "ls-tree", rev, "--", *rels).splitlines():
        meta, path = line.split("\t", 1)
        out[path] = meta.split()[2]
    return out


def stale_events(repo: Path) -> list[dict[str, object]]:
    return [e for e in read_events(repo) if e["action"] == "stale_lock_removed"]


def porcelain(repo: Path) -> list[str]:
    return sorted(git(repo, "status", "--porcelain", "-uall", env=NO_OPTIONAL_LOCKS).splitlines())


@pytest.fixture
def scene(repo: Path) -> Scene:
    """Our change to two paths, beside another agent's staged, dirty and untracked files."""
    other = Scene(repo, "o")
    other.commit_base()
    write(repo, "src/app.py", "print('v2')\n")
    write(repo, "feature/new.py", "NEW = True\n")
    other.make_mess()
    write(repo, "scratch.txt", "another agent's untracked notes\n")
    return other


@pytest.mark.parametrize("with_hook", [False, True], ids=["no-hooks", "hooks"])
@pytest.mark.parametrize("point", POINTS)
def test_killed_at_each_point_then_retried(
    repo: Path, scene: Scene, point: str, with_hook: bool
) -> None:
    if with_hook:
        install_hook(repo, "pre-commit", "#!/bin/sh\nexit 0\n")
    base = head(repo)
    before_index = index_blobs(repo, OURS)
    want = dict(zip(OURS, blobs_on_disk(repo, OURS), strict=True))
    lock = git_dir(repo) / "index.lock"

    crashed = wt_commit(repo, "--json", "-m", "ours", "--", *OURS, env={"WT_FAULT": point})

    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    tip = head(repo)
    if point == "landed":
        assert git(repo, "rev-parse", f"{tip}^").strip() == base
        assert committed_files(repo, tip) == sorted(OURS)
        assert tree_blobs(repo, tip, OURS) == want
    else:
        assert tip == base
    assert_fsck_clean(repo)
    assert lock.exists() == (point in HOLDS_INDEX_LOCK)
    # The index never shows the commit reverted: our paths are staged as soon as it is synced.
    assert index_blobs(repo, OURS) == (want if point in INDEX_SYNCED else before_index)
    assert stage_entries(repo, scene.staged + scene.dirty) == scene.before_entries
    assert {rel: (repo / rel).read_bytes() for rel in scene.dirty} == scene.before_bytes

    # --lock-timeout 0: one try at each lock, so any wait on a stale lock would fail this.
    retry = wt_commit(repo, "--json", "--lock-timeout", "0", "-m", "ours", "--", *OURS)

    assert retry.returncode == 0, retry.stdout + retry.stderr
    result = json.loads(retry.stdout)
    if point == "landed":
        assert (result["outcome"], result["commit"], head(repo)) == ("unchanged", tip, tip)
    else:
        assert result["outcome"] == "committed"
        assert (result["commit"], result["parent"]) == (head(repo), base)
        assert committed_files(repo) == sorted(OURS)
        assert tree_blobs(repo, "HEAD", OURS) == want
    removed = stale_events(repo)
    if point in HOLDS_INDEX_LOCK:
        assert [e["lock"] for e in removed] == [os.fspath(lock)]
    else:
        assert removed == []
    assert not lock.exists()
    assert index_blobs(repo, OURS) == want
    assert porcelain(repo) == sorted(
        [f"M  {scene.staged[0]}", f"A  {scene.staged[1]}", "?? scratch.txt"]
        + [f" M {d}" for d in scene.dirty]
    )
    scene.assert_untouched()
    assert (repo / "scratch.txt").read_text() == "another agent's untracked notes\n"
    assert_fsck_clean(repo)
    assert_no_leftovers(repo)


def test_stale_index_lock_without_a_process_is_removed(repo: Path) -> None:
    lock = git_dir(repo) / "index.lock"
    lock.write_bytes((git_dir(repo) / "index").read_bytes())  # as a killed git leaves it
    an_hour_ago = time.time() - 3600
    os.utime(lock, (an_hour_ago, an_hour_ago))
    write(repo, "mine.txt", "mine\n")

    res = wt_commit(repo, "--json", "--lock-timeout", "0", "-m", "mine", "--", "mine.txt")

    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["outcome"] == "committed"
    assert committed_files(repo) == ["mine.txt"]
    assert not lock.exists()
    assert [e["lock"] for e in stale_events(repo)] == [os.fspath(lock)]
    assert f"removed stale lock {lock}" in res.stderr


def start_git_commit_in_hook(repo: Path, tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    """`git commit -a` stopped in its pre-commit hook: git holds index.lock meanwhile."""
    install_hook(repo, "pre-commit", BLOCKING_HOOK)
    write(repo, "README", "edited by a plain git user\n")
    block = tmp_path / "block"
    proc = subprocess.Popen(
        ["git", "commit", "-q", "-a", "-m", "plain git"],
        cwd=repo,
        env={**os.environ, "HOOK_BLOCK": os.fspath(block)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    wait_for(block.with_name("block.entered"))
    assert (git_dir(repo) / "index.lock").exists()
    return proc, block


def test_index_lock_of_a_killed_git_commit_is_removed(repo: Path, tmp_path: Path) -> None:
    base = head(repo)
    proc, _ = start_git_commit_in_hook(repo, tmp_path)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    lock = git_dir(repo) / "index.lock"
    assert lock.exists()  # git never cleans up after SIGKILL
    write(repo, "mine.txt", "mine\n")

    res = wt_commit(repo, "--json", "--lock-timeout", "30", "-m", "mine", "--", "mine.txt")

    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["outcome"] == "committed"
    assert committed_files(repo) == ["mine.txt"]
    assert git(repo, "rev-parse", "HEAD~1").strip() == base
    assert not lock.exists()
    assert [e["lock"] for e in stale_events(repo)] == [os.fspath(lock)]
    assert porcelain(repo) == [" M README"]  # the killed commit's edit: still only on disk


def test_index_lock_of_a_live_git_is_left_alone(repo: Path, tmp_path: Path) -> None:
    base = head(repo)
    proc, block = start_git_commit_in_hook(repo, tmp_path)
    lock = git_dir(repo) / "index.lock"
    try:
        # Old enough to pass for stale by age alone: only the live process may protect it.
        an_hour_ago = time.time() - 3600
        os.utime(lock, (an_hour_ago, an_hour_ago))
        held = lock.stat()
        write(repo, "mine.txt", "mine\n")

        res = wt_commit(repo, "--json", "--lock-timeout", "0.5", "-m", "mine", "--", "mine.txt")

        assert res.returncode == 3, res.stdout + res.stderr
        out = json.loads(res.stdout)
        assert out["outcome"] == "lock_timeout"
        assert os.fspath(lock) in out["error"]
        assert f"pid {proc.pid} " in out["error"]
        after = lock.stat()
        assert (after.st_ino, after.st_mtime) == (held.st_ino, held.st_mtime)
        assert stale_events(repo) == []
        assert head(repo) == base
        assert proc.poll() is None
    finally:
        block.with_name("block.release").touch()
        proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert committed_files(repo) == ["README"]
    assert git(repo, "ls-files", "--", "mine.txt") == ""
    res = wt_commit(repo, "--json", "--lock-timeout", "0", "-m", "mine", "--", "mine.txt")
    assert res.returncode == 0, res.stdout + res.stderr
    assert committed_files(repo) == ["mine.txt"]
