"""Real processes racing for tasks: each task claimed exactly once, even with claimers killed."""

from __future__ import annotations

import collections
import os
import subprocess
from pathlib import Path

import pytest
from conftest import git, git_wt

from .helpers import events, lines, seed, spawn_agent, task

AGENTS = 16
TASKS = 200


def _race(repo: Path, agents: int, tmp: Path) -> list[dict[str, object]]:
    start = tmp / "go"
    procs = [spawn_agent(repo, f"a{i:02d}", "--start", os.fspath(start)) for i in range(agents)]
    start.touch()
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        out += lines(stdout)
    return out


def _assert_each_once(repo: Path, ids: list[str], got: list[dict[str, object]]) -> None:
    claimed = collections.Counter(str(x["claimed"]) for x in got if "claimed" in x)
    assert sorted(claimed) == sorted(ids), "a task was never claimed"
    assert max(claimed.values()) == 1, [k for k, v in claimed.items() if v > 1]
    listing = task(repo, "list", agent=None)
    assert {t["state"] for t in listing["tasks"]} == {"done"}
    assert all(t["token"] == 1 for t in listing["tasks"])  # nobody ever took a task over
    done_events = collections.Counter(e["task"] for e in events(repo) if e["action"] == "task_done")
    assert done_events == dict.fromkeys(ids, 1)


def test_16_agents_race_next_over_200_tasks(repo: Path, tmp_path: Path) -> None:
    ids = seed(repo, TASKS)
    got = _race(repo, AGENTS, tmp_path)
    _assert_each_once(repo, ids, got)
    assert len({x["claimed"] for x in got if "claimed" in x}) == TASKS


def test_compare_and_swap_alone_keeps_claims_exclusive(repo: Path, tmp_path: Path) -> None:
    """Without the local turns (every agent reads, decides and swaps at once), the swap alone
    must still give each task to one agent."""
    git(repo, "config", "wt.task.turns", "false")
    ids = seed(repo, 20)
    _assert_each_once(repo, ids, _race(repo, 6, tmp_path))


@pytest.mark.parametrize("point", ["task-before-swap", "task-after-swap"])
def test_claimers_killed_mid_claim_lose_nothing(repo: Path, tmp_path: Path, point: str) -> None:
    seed(repo, 24)
    # The claimers that die race each other first (each one dies at its first claim); then the
    # survivors race for everything, taking over what the dead left claimed.
    start = tmp_path / "go"
    killers = [
        spawn_agent(repo, f"k{i}", "--start", os.fspath(start), env={"WT_FAULT": point})
        for i in range(3)
    ]
    start.touch()
    for proc in killers:
        proc.communicate(timeout=600)
        assert proc.returncode == -9  # SIGKILLed at the fault point
    go = tmp_path / "go2"
    normal = [spawn_agent(repo, f"n{i}", "--start", os.fspath(go)) for i in range(3)]
    go.touch()
    got = []
    for proc in normal:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        got += lines(stdout)
    board = {t["id"]: t for t in task(repo, "list", agent=None)["tasks"]}
    assert {t["state"] for t in board.values()} == {"done"}  # nothing lost
    claimed = collections.Counter(x["claimed"] for x in got if "claimed" in x)
    assert max(claimed.values()) == 1  # nobody got a task twice
    taken = {k: t for k, t in board.items() if t["token"] > 1}
    if point == "task-before-swap":
        # A claim killed before its swap changed nothing: no task ever had a second claim.
        assert taken == {}
    else:
        # Each killed claimer's swap landed; its owner (the claimer itself) is dead, so the
        # survivors took those tasks over, with the token incremented and the takeover logged.
        # (A killer may itself take over an earlier killer's task and die: count takeovers in
        # the board's history, which every swap lands in, not in the event log, which a
        # process killed right after its swap never reaches.)
        log = git(repo, "log", "--format=%s", "wt/tasks").splitlines()
        overs = [s for s in log if "took over from k" in s]
        assert len(overs) == 3
        assert sum(t["token"] - 1 for t in taken.values()) == 3


def test_cli_killed_after_its_swap_gives_the_claim_back(repo: Path) -> None:
    """`git wt task next` SIGKILLed right after its swap: the claim stands (its owner, the
    caller, lives) and the same agent's next `next` returns it rather than a second task."""
    seed(repo, 3)
    killed = git_wt(repo, "task", "next", "--agent", "k", env={"WT_FAULT": "task-after-swap"})
    assert killed.returncode == -9
    held = [t for t in task(repo, "list", agent=None)["tasks"] if t["assigned_to"] == "k"]
    assert len(held) == 1 and held[0]["state"] == "claimed"
    back = task(repo, "next", agent="k")
    assert back["outcome"] == "unchanged" and back["task_id"] == held[0]["id"]
    killed = git_wt(repo, "task", "next", "--agent", "j", env={"WT_FAULT": "task-before-swap"})
    assert killed.returncode == -9
    assert not [t for t in task(repo, "list", agent=None)["tasks"] if t["assigned_to"] == "j"]


def test_a_killed_owner_s_claim_is_taken_over_by_next(repo: Path) -> None:
    seed(repo, 2)
    owner = subprocess.Popen(["sleep", "300"])
    got = task(repo, "next", "--owner-pid", str(owner.pid), agent="dies")
    owner.kill()
    owner.wait()
    again = task(repo, "next", agent="survivor")
    assert again["task_id"] == got["task_id"] and again["token"] == got["token"] + 1
