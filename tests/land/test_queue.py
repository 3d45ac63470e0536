"""The queue under load: many agents at once (real processes), and batches with bisection."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import git, head, run_all, status

from .helpers import CHECK, agent, checked_trees, land, spawn_land, subjects

AGENTS = 8


def wait_until(
    repo: Path, done: Callable[[list[dict[str, Any]]], bool], limit: float = 120
) -> None:
    """Poll the queue (a liveness bound, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not done(land(repo, "--list")["requests"]):
        assert time.monotonic() < deadline, land(repo, "--list")
        time.sleep(0.02)


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "checks.log"
    monkeypatch.setenv("LAND_CHECK_LOG", str(path))
    return path


def test_eight_agents_land_at_once_each_exactly_once(repo: Path, log: Path) -> None:
    names = [f"agent{i}" for i in range(AGENTS)]
    for name in names:
        agent(repo, name, {f"{name}.txt": f"{name}\n"}, f"{name}: work")
    base = head(repo, "main")
    procs = [spawn_land(repo, name, "--into", "main", "--check", CHECK) for name in names]
    codes = run_all(procs)
    outs = [json.loads(p.stdout.read() if p.stdout else "{}") for p in procs]
    assert codes == [0] * AGENTS, outs
    assert sorted(o["outcome"] for o in outs) == ["landed"] * AGENTS
    # linear history, every agent's commit exactly once
    new = subjects(repo, f"{base}..main")
    assert sorted(new) == sorted(f"{n}: work" for n in names)
    assert git(repo, "rev-list", "--merges", "main").strip() == ""
    # the check ran on every integrated tree: each landing's tree
    trees = set(checked_trees(log))
    landed = git(repo, "log", "--format=%T", f"{base}..main").split()
    assert set(landed) <= trees
    # each landed file is in the main worktree, nothing staged or stray
    assert all((repo / f"{n}.txt").exists() for n in names) and status(repo) == ""
    assert land(repo, "--list")["requests"] == []


def test_batch_lands_the_good_and_hands_back_the_culprit(
    repo: Path, log: Path, tmp_path: Path
) -> None:
    names = ["b0", "b1", "b2", "b3"]
    for name in names:
        files = {f"{name}.txt": "x\n"}
        if name == "b2":
            files["FAIL"] = "culprit\n"
        agent(repo, name, files, f"{name}: work")
    agent(repo, "gate", {"gate.txt": "g\n"}, "gate: work")
    base = head(repo, "main")
    # A first request whose check waits for a gate keeps the lander busy while the four queue.
    gate = tmp_path / "gate"
    hold = f"while [ ! -e {gate} ]; do sleep 0.01; done"
    first = land(repo, "gate", "--into", "main", "--check", hold, "--no-wait", "--batch", "4")
    wait_until(
        repo,
        lambda rows: any(
            r["request"] == first["request"] and r["state"] == "landing" for r in rows
        ),
    )
    for n in names:
        q = land(repo, n, "--into", "main", "--check", CHECK, "--no-wait", "--batch", "4")
        assert q["outcome"] == "queued"
    gate.touch()
    wait_until(repo, lambda rows: rows == [])
    done = {r["branch"]: r for r in land(repo, "--list", "--all")["requests"]}
    assert {b: r["outcome"] for b, r in done.items()} == {
        "wt/b0": "landed",
        "wt/b1": "landed",
        "wt/b2": "check_failed",
        "wt/b3": "landed",
        "wt/gate": "landed",
    }
    assert sorted(subjects(repo, f"{base}..main")) == [
        "b0: work",
        "b1: work",
        "b3: work",
        "gate: work",
    ]
    assert not (repo / "FAIL").exists()
    # bisection: the whole batch, then halves; fewer checks than one per request and split
    trees = checked_trees(log)
    assert len(trees) < 2 * len(names)
    assert done["wt/b0"]["commit"] == done["wt/b1"]["commit"]  # b0 and b1 landed together
