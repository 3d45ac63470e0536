"""Stale-lock removal judges and removes the same file (review finding: a TOCTOU window)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from worktree_tools.core import gitlocks


def _stale(path: Path) -> None:
    path.write_bytes(b"")
    old = time.time() - 60
    os.utime(path, (old, old))


def test_a_stale_lock_is_removed_and_reported(tmp_path: Path) -> None:
    lock = tmp_path / "index.lock"
    _stale(lock)
    seen: list[dict[str, Any]] = []
    assert gitlocks.remove_if_stale(lock, [tmp_path / "elsewhere"], seen.append)
    assert not lock.exists() and len(seen) == 1


def test_a_lock_replaced_after_judgement_survives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the judgement and the removal another process removes the stale lock and takes
    a fresh one (git add): the fresh lock must survive."""
    lock = tmp_path / "index.lock"
    _stale(lock)
    judge = gitlocks.holders

    def judge_then_race(path: Path, dirs: list[Path], *exclude: Any) -> tuple[bool, str]:
        verdict = judge(path, dirs, *exclude)
        path.unlink()
        path.write_bytes(b"fresh lock of a live git add")
        return verdict

    monkeypatch.setattr(gitlocks, "holders", judge_then_race)
    seen: list[dict[str, Any]] = []
    assert not gitlocks.remove_if_stale(lock, [tmp_path / "elsewhere"], seen.append)
    assert lock.read_bytes() == b"fresh lock of a live git add"
    assert seen == [] and sorted(p.name for p in tmp_path.iterdir()) == ["index.lock"]


def test_git_in_a_nested_worktree_does_not_hold_the_outer_index_lock(tmp_path: Path) -> None:
    """Review finding: agent worktrees live under .git/wt/trees, inside the main worktree; a
    git process working there made the main worktree's stale index.lock look held."""
    import subprocess

    from worktree_tools.core.procs import git_processes_in

    top = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", os.fspath(top)], check=True)
    nested = top / ".git" / "wt" / "trees" / "a3"
    nested.mkdir(parents=True)
    lock = top / ".git" / "index.lock"
    proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=nested, stdin=subprocess.PIPE)
    try:
        time.sleep(0.2)
        pids = {p.pid for p in git_processes_in([top, top / ".git"], lock)}
        assert proc.pid in pids  # without the exclusion: counted (conservative)
        pids = {p.pid for p in git_processes_in([top, top / ".git"], lock, [top / ".git/wt"])}
        assert proc.pid not in pids
        inner = {p.pid for p in git_processes_in([nested], lock, [top / ".git/wt"])}
        assert proc.pid in inner  # but it does hold the nested worktree's own lock
    finally:
        proc.kill()
        proc.wait()


def test_our_own_git_parent_is_not_a_holder(tmp_path: Path) -> None:
    """`git wt doctor` runs under a `git` process whose cwd is the worktree."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path;"
        " from worktree_tools.core.procs import git_processes_in;"
        "print(len(git_processes_in([Path.cwd()], Path.cwd() / 'x.lock')))"
    )
    # `git -c alias.probe=!CMD probe` runs CMD as a child of a git process in this directory
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    out = subprocess.run(
        ["git", "-c", f"alias.probe=!{sys.executable} -c \"{code}\"", "probe"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "0"


def test_a_killed_unreaped_process_is_dead() -> None:
    import signal
    import subprocess

    from worktree_tools.core.procs import alive, start_time

    proc = subprocess.Popen(["sleep", "60"])
    started = start_time(proc.pid)
    assert started is not None and alive(proc.pid, started)
    os.kill(proc.pid, signal.SIGKILL)
    time.sleep(0.2)  # a zombie now: killed, not yet reaped
    assert not alive(proc.pid, started)
    proc.wait()
