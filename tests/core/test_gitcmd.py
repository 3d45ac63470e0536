"""core.gitcmd: the git processes a killed process started die with it (SIGKILL included).
Real processes: a Python process runs git through gitcmd, and is killed with SIGKILL alone
(not its process group), as an agent's harness or the OOM killer would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Starts git through gitcmd, writes the pids to watch, then waits to be killed: a long-lived
# `cat-file --batch` (popen), and a `git add` whose clean filter (a process git starts) writes
# its shell's pid and sleeps. `git add` waits for the filter, so gitcmd.git never returns.
CHILD = """
import os, subprocess, sys
sys.path.insert(0, sys.argv[1])
from worktree_tools.core import gitcmd
batch = gitcmd.popen(["cat-file", "--batch"], cwd=sys.argv[2], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
print(batch.pid, flush=True)
slow = f"filter.slow.clean=echo $$ >> {sys.argv[3]} && exec sleep 300"
gitcmd.git(["-c", slow, "add", "slow.txt"], cwd=sys.argv[2])
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != b"Z"  # a zombie has ended; only its reaping is pending


def _wait_gone(pids: list[int], timeout: float = 30) -> list[int]:
    give_up = time.monotonic() + timeout
    while (alive := [p for p in pids if _alive(p)]) and time.monotonic() < give_up:
        time.sleep(0.02)
    return alive


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
def test_git_children_and_theirs_die_with_a_killed_process(repo: Path, tmp_path: Path) -> None:
    (repo / ".gitattributes").write_text("slow.txt filter=slow\n")
    (repo / "slow.txt").write_text("cleaned by a filter that never ends\n")
    pids_file = tmp_path / "pids"
    with pids_file.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(ROOT), str(repo), str(pids_file)],
            stdout=out,
            start_new_session=True,  # an agent of its own; we kill its pid, not its group
        )
        try:
            give_up = time.monotonic() + 30
            while len(pids_file.read_bytes().split()) < 2 and time.monotonic() < give_up:
                time.sleep(0.02)
            pids = [int(p) for p in pids_file.read_bytes().split()]
            assert len(pids) == 2, "the child did not start both git processes"
            assert all(_alive(p) for p in pids)
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # Neither `cat-file --batch` nor the filter git started (`sleep` by then) outlived it.
    assert _wait_gone(pids) == []


def test_a_killed_watchdog_is_replaced(repo: Path) -> None:
    """Git started after the watchdog was killed is tied to a new one, not to a dead group."""
    from worktree_tools.core import gitcmd

    first = gitcmd._watchdog()
    assert first is not None
    os.kill(first, signal.SIGKILL)
    give_up = time.monotonic() + 30
    while _alive(first) and time.monotonic() < give_up:
        time.sleep(0.01)
    assert gitcmd.git(["rev-parse", "--git-dir"], cwd=repo).out.strip() == ".git"
    second = gitcmd._watchdog()
    assert second not in (None, first)
    assert _alive(second)
