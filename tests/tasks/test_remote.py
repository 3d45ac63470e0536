"""Four clones (four machines) claiming through one loopback git daemon: the server's atomic
compare-and-swap pushes give each task to exactly one of them."""

from __future__ import annotations

import collections
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git
from remote.server import Server, clone, git_daemon, make_bare

from .helpers import lines, seed, spawn_agent, task

TASKS = 12


@pytest.fixture
def origin(tmp_path: Path, repo: Path) -> Iterator[tuple[Server, str]]:
    with git_daemon(tmp_path / "srv") as server:
        url = make_bare(server, "origin.git", repo)
        yield server, url


def test_four_clones_claim_each_task_once(
    repo: Path, tmp_path: Path, origin: tuple[Server, str]
) -> None:
    _server, url = origin
    ids = seed(repo, TASKS)
    git(repo, "push", "-q", url, "wt/tasks")
    clones = [clone(url, tmp_path / f"m{i}") for i in range(4)]
    start = tmp_path / "go"
    procs = [
        spawn_agent(c, f"m{i}", "--remote", "origin", "--start", os.fspath(start))
        for i, c in enumerate(clones)
    ]
    start.touch()
    got = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        got += lines(stdout)
    claimed = collections.Counter(x["claimed"] for x in got if "claimed" in x)
    assert sorted(claimed) == ids and max(claimed.values()) == 1
    # The server's board says the same, read from any machine.
    listing = task(clones[0], "list", "--remote", "origin", agent=None)
    assert {t["state"] for t in listing["tasks"]} == {"done"} and len(listing["tasks"]) == TASKS
    assert listing["where"] == "remote:origin"
    # Nothing was written to the machines' own boards: the remote is the board.
    assert git(clones[1], "for-each-ref", "refs/heads/wt", "refs/wt/claims") == ""


def test_two_machines_one_claim_and_config_remote(
    repo: Path, tmp_path: Path, origin: tuple[Server, str]
) -> None:
    _server, url = origin
    a, b = clone(url, tmp_path / "a"), clone(url, tmp_path / "b")
    for c in (a, b):
        git(c, "config", "wt.task.remote", "origin")
    assert task(a, "add", "shared job")["where"] == "remote:origin"
    first = task(a, "claim", "T1", agent="ma")
    assert first["exit"] == 0 and first["token"] == 1
    second = task(b, "claim", "T1", agent="mb")
    assert second["exit"] == 6 and second["holder"] == "ma"
    beat = task(a, "heartbeat", "T1", agent="ma")
    assert beat["exit"] == 0
    assert task(b, "done", "T1", "--token", "1", agent="mb")["exit"] == 6
    assert task(a, "done", "T1", "--token", "1", agent="ma")["exit"] == 0
    assert task(b, "show", "T1", agent=None)["task"]["state"] == "done"
