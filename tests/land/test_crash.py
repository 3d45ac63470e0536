"""A lander SIGKILLed at each stage: the next lander finishes the queue, nothing is lost,
nothing lands twice, no lock is left behind, the main worktree ends up true."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git, git_wt, head, status

from .helpers import CHECK, checked_trees, commit, land, subjects

STAGES = [
    "land-claimed",
    "land-integrated",
    "land-checked",
    "land-planned",
    "land-swap",
    "land-swapped",
    "land-checkout-synced",
    "land-finished",
]


@pytest.mark.parametrize("stage", STAGES)
def test_next_lander_finishes_after_a_kill(
    repo: Path, stage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "checks.log"
    monkeypatch.setenv("LAND_CHECK_LOG", str(log))
    for name in ("alice", "bob"):  # plain branches: the crash is the lander's, not an agent's
        git(repo, "checkout", "-qb", f"wt/{name}", "main")
        commit(repo, {f"{name}.txt": f"{name[0]}\n"}, f"{name}: work")
    git(repo, "checkout", "-q", "main")
    commit(repo, {"main.txt": "m\n"}, "main moved")
    base = head(repo, "main")
    # No background lander: the queue waits for the lander we kill, which takes both at once.
    git(repo, "config", "wt.land.autostart", "false")
    for name in ("bob", "alice"):
        land(repo, f"wt/{name}", "--into", "main", "--check", CHECK, "--no-wait")
    killed = land(
        repo, "--run", "--into", "main", "--batch", "2", expect=None, env={"WT_FAULT": stage}
    )
    assert killed["_rc"] == -9, killed
    after_kill = head(repo, "main")
    if stage == "land-checked":  # watch sees the dead lander and names the command to finish
        res = git_wt(repo, "watch", "--once", "--json", "--no-journal")
        stuck = [f for f in json.loads(res.stdout)["findings"] if f["kind"] == "land_stuck"]
        assert stuck and all(f["fix"] == "git wt land --run --into main" for f in stuck), stuck
    # the next lander (any land command) finishes the queue
    land(repo, "--run", "--into", "main")
    rows = {r["branch"]: r for r in land(repo, "--list", "--all")["requests"]}
    assert rows["wt/alice"]["outcome"] == rows["wt/bob"]["outcome"] == "landed", rows
    assert sorted(subjects(repo, f"{base}..main")) == ["alice: work", "bob: work"]
    assert not (repo / ".git" / "index.lock").exists()
    assert status(repo) == "", status(repo)  # the main worktree follows main, nothing staged
    assert (repo / "alice.txt").read_text() == "a\n"
    # landing it again is a no-op; the batch's tree (now main's) was checked
    assert land(repo, "wt/alice", "--into", "main")["outcome"] == "unchanged"
    assert head(repo, "main^{tree}") in checked_trees(log)
    if stage in ("land-swapped", "land-checkout-synced", "land-finished"):
        assert after_kill != base  # the kill came after the swap: the recovery finished it
