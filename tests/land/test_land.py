"""`git wt land`, one request at a time: strategies, idempotence, hand-backs, the queue's
commands, and the target's checkout following the target."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import git, git_wt, head, snapshot, status, write, wt_commit

from .helpers import CHECK, agent, checked_trees, commit, handoff, land, spawn_land, subjects


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "checks.log"
    monkeypatch.setenv("LAND_CHECK_LOG", str(path))
    return path


def test_rebase_replays_on_a_moved_target_and_checks_that_tree(repo: Path, log: Path) -> None:
    tree = agent(repo, "alice", {"alice.txt": "a\n"}, "alice: add")
    commit(repo, {"main.txt": "m\n"}, "main moved")
    data = land(repo, "alice", "--into", "main", "--check", CHECK)
    assert data["outcome"] == "landed" and data["schema_version"] == 1
    assert subjects(repo)[:3] == ["alice: add", "main moved", "initial"]
    assert git(repo, "rev-list", "--merges", "main").strip() == ""
    assert data["commit"] == head(repo, "main")
    assert checked_trees(log) == [head(repo, "main^{tree}")]
    # the agent's branch and worktree are untouched; the main worktree follows main
    assert git(tree, "log", "--format=%s", "-1").strip() == "alice: add"
    assert (repo / "alice.txt").read_text() == "a\n" and status(repo) == ""
    assert "undo: git update-ref refs/heads/main" in data["_stderr"]


def test_rebase_keeps_each_commit_s_author_date_and_message(repo: Path) -> None:
    """The replayed commit is built by core.commits: the agent's author (name, email, date with
    its zone) and whole message stay, the committer is the repository's identity, and nothing
    is signed even where commit.gpgSign asks for it (the landed merge is no one's signature)."""
    tree = agent(repo, "alice", {"a.txt": "1\n"}, "alice: first")
    write(tree, "b.txt", "2\n")
    git(tree, "add", "b.txt")
    who = {"GIT_AUTHOR_NAME": "Alice Agent", "GIT_AUTHOR_EMAIL": "alice@agents.example",
           "GIT_AUTHOR_DATE": "2026-03-04T05:06:07+0530"}  # fmt: skip
    git(tree, "commit", "-q", "-F", "-", input=b"alice: second\n\nwhy it matters\n", env=who)
    commit(repo, {"main.txt": "m\n"}, "main moved")
    git(repo, "config", "commit.gpgSign", "true")
    land(repo, "alice", "--into", "main")
    fmt = "%an|%ae|%ad|%cn|%ce|%G?|%B"
    landed = git(repo, "log", "-1", f"--format={fmt}", "--date=raw", "main")
    assert landed == "Alice Agent|alice@agents.example|1772580967 +0530|Test Agent|" \
        "agent@example.com|N|alice: second\n\nwhy it matters\n\n"  # fmt: skip
    assert git(repo, "log", "-1", "--format=%an %s", "main~1") == "Test Agent alice: first\n"


def test_fast_forward_keeps_the_agents_commits(repo: Path) -> None:
    tree = agent(repo, "alice", {"a.txt": "1\n"})
    commit(tree, {"b.txt": "2\n"}, "alice: second")
    data = land(repo, "alice", "--into", "main")
    assert data["commit"] == head(tree) == head(repo, "main")


def test_squash_and_merge_build_what_they_promise(repo: Path) -> None:
    t1 = agent(repo, "sq", {"s1.txt": "1\n"}, "sq: one")
    commit(t1, {"s2.txt": "2\n"}, "sq: two")
    agent(repo, "mg", {"m.txt": "m\n"}, "mg: one")
    land(repo, "sq", "--into", "main", "--strategy", "squash")
    msg = git(repo, "log", "-1", "--format=%B", "main")
    assert msg.startswith("Squashed branch 'wt/sq'") and "sq: one" in msg and "sq: two" in msg
    assert len(git(repo, "rev-list", "--parents", "-1", "main").split()) == 2  # one parent
    data = land(repo, "mg", "--into", "main", "--strategy", "merge")
    parents = git(repo, "rev-list", "--parents", "-1", "main").split()[1:]
    assert parents == [data["old"], head(repo, "wt/mg")]
    assert (repo / "m.txt").exists() and (repo / "s2.txt").exists() and status(repo) == ""


@pytest.mark.parametrize("strategy", ["rebase", "squash", "merge"])
def test_landing_twice_lands_once(repo: Path, strategy: str) -> None:
    agent(repo, "alice", {"a.txt": "1\n"})
    commit(repo, {"main.txt": "m\n"}, "main moved")  # no fast-forward: the work is rebuilt
    first = land(repo, "alice", "--into", "main", "--strategy", strategy)
    tip = head(repo, "main")
    again = land(repo, "alice", "--into", "main", "--strategy", strategy)
    assert (first["outcome"], again["outcome"]) == ("landed", "unchanged")
    assert head(repo, "main") == tip and "exit_code" not in again


def test_conflict_is_handed_back_and_nothing_moves(repo: Path, log: Path) -> None:
    tree = agent(repo, "alice", {"README": "alice\n"}, "alice: readme")
    commit(repo, {"README": "main\n"}, "main: readme")
    before = head(repo, "main"), head(repo, "wt/alice"), status(tree)
    data = land(repo, "alice", "--into", "main", "--check", CHECK, expect=4)
    assert data["outcome"] == "conflict" and data["exit_code"] == 4
    assert data["paths"] == ["README"] and "git wt land alice --into main" in data["fix"]
    assert (head(repo, "main"), head(repo, "wt/alice"), status(tree)) == before
    assert checked_trees(log) == []
    h = handoff(repo, "alice")
    assert h["state"] == "blocked" and "README" in h["blockers"][0]
    assert "git wt land alice --into main" in h["next_step"]
    rec = json.loads((repo / ".git/wt/worktrees/alice/owner.json").read_text())
    assert rec["state"] == "active"  # the agent keeps its lease


def test_red_check_is_handed_back_with_the_tail(repo: Path, log: Path) -> None:
    agent(repo, "alice", {"FAIL": "x\n"}, "alice: breaks it")
    before = head(repo, "main")
    check = 'pwd; echo "it broke here" >&2; exit 3'
    data = land(repo, "alice", "--into", "main", "--check", check, expect=5)
    assert data["outcome"] == "check_failed" and data["exit_code"] == 5
    checkout = data["check_tail"].splitlines()[0]
    assert "/.git/" not in checkout + "/" and Path(checkout, "FAIL").exists()  # Jest-safe
    assert "it broke here" in data["check_tail"] and head(repo, "main") == before
    h = handoff(repo, "alice")
    assert h["state"] == "blocked" and any("it broke here" in b for b in h["blockers"])


def test_the_target_checkout_follows_and_local_changes_are_left_alone(repo: Path) -> None:
    agent(repo, "alice", {"README": "alice\n", "new.txt": "n\n", "src/app.py": "v2\n"})
    write(repo, "src/app.py", "local edit\n")  # unstaged
    write(repo, "new.txt", "untracked in the way\n")
    data = land(repo, "alice", "--into", "main")
    assert data["outcome"] == "landed"
    assert (repo / "README").read_text() == "alice\n"  # clean path: moved with main
    assert (repo / "src/app.py").read_text() == "local edit\n"
    assert (repo / "new.txt").read_text() == "untracked in the way\n"
    left = data["checkouts"][0]["left_alone"]
    assert sorted(left) == ["new.txt", "src/app.py"]
    # no staged reversals: the index is main's tree
    assert git(repo, "diff", "--cached", "--name-only").strip() == ""
    assert "left alone" in data["_stderr"]


def test_list_cancel_and_no_wait(repo: Path, tmp_path: Path) -> None:
    agent(repo, "alice", {"a.txt": "1\n"})
    agent(repo, "bob", {"b.txt": "1\n"})
    # alice's check waits for a gate, so its lander stays busy while bob queues behind it
    gate = tmp_path / "gate"
    check = f"while [ ! -e {gate} ]; do sleep 0.01; done"
    slow = land(repo, "alice", "--into", "main", "--check", check, "--no-wait")
    assert slow["outcome"] == "queued"
    queued = land(repo, "bob", "--into", "main", "--no-wait")
    listed = land(repo, "--list")
    assert {r["branch"] for r in listed["requests"]} >= {"wt/bob"}
    cancelled = land(repo, "--cancel", queued["request"])
    assert cancelled["outcome"] == "cancelled"
    gate.touch()
    deadline = time.monotonic() + 60
    while land(repo, "--list")["requests"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (repo / "a.txt").exists() and not (repo / "b.txt").exists()
    done = {r["request"]: r["outcome"] for r in land(repo, "--list", "--all")["requests"]}
    assert done == {slow["request"]: "landed", queued["request"]: "cancelled"}


def test_bad_input_changes_nothing(repo: Path) -> None:
    before = snapshot(repo)
    data = land(repo, "nobody", "--into", "main", expect=2)
    assert data["outcome"] == "invalid" and "git wt list" in data["fix"]
    land(repo, "main", "--into", "nonexistent", expect=2)
    land(repo, "--cancel", "x1", expect=2)
    assert snapshot(repo) == before


def test_corrupt_request_is_reported_not_overwritten(repo: Path) -> None:
    agent(repo, "alice", {"a.txt": "1\n"})
    bad = repo / ".git/wt/land/requests/7.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json")
    listed = land(repo, "--list")
    assert "7.json" in listed["corrupt"][0]["error"]
    data = land(repo, "alice", "--into", "main")
    assert data["outcome"] == "landed" and data["request"] == "8"
    assert bad.read_text() == "{not json"


def test_a_linked_worktree_with_the_target_follows_it(repo: Path, tmp_path: Path) -> None:
    git(repo, "branch", "release")
    rel = tmp_path / "release-tree"
    git(repo, "worktree", "add", "-q", str(rel), "release")
    agent(repo, "alice", {"a.txt": "1\n"})
    data = land(repo, "alice", "--into", "release")
    assert data["checkouts"][0]["worktree"] == str(rel)
    assert (rel / "a.txt").read_text() == "1\n" and status(rel) == ""
    assert not (repo / "a.txt").exists()  # main's checkout is not the target's


def test_squash_merged_work_is_unchanged_for_every_strategy(repo: Path, log: Path) -> None:
    git(repo, "config", "wt.land.check", CHECK)  # the configured check, no --check
    tree = agent(repo, "alice", {"a.txt": "1\n"}, "alice: one")
    commit(tree, {"b.txt": "2\n"}, "alice: two")
    commit(repo, {"main.txt": "m\n"}, "main moved")
    assert land(repo, "alice", "--into", "main", "--strategy", "squash")["outcome"] == "landed"
    assert checked_trees(log) == [head(repo, "main^{tree}")]
    tip = head(repo, "main")
    for strategy in ("rebase", "merge", "squash"):
        data = land(repo, "alice", "--into", "main", "--strategy", strategy)
        assert data["outcome"] == "unchanged", (strategy, data)
    assert head(repo, "main") == tip


def test_a_check_past_its_timeout_is_killed_and_handed_back(repo: Path, tmp_path: Path) -> None:
    agent(repo, "alice", {"a.txt": "1\n"})
    child = tmp_path / "child.pid"
    # the check starts a child that would outlive it; the whole process group is killed
    check = f"sleep 600 & echo $! > {child}; wait"
    data = land(
        repo, "alice", "--into", "main", "--check", check, "--check-timeout", "0.5", expect=5
    )
    assert data["outcome"] == "check_failed" and "timed out" in data["check_tail"]
    pid = int(child.read_text())
    assert (
        not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    )


def test_target_moved_during_the_check_is_rebuilt_and_checked_again(
    repo: Path, tmp_path: Path
) -> None:
    agent(repo, "alice", {"a.txt": "1\n"}, "alice: work")
    log, gate = tmp_path / "trees.log", tmp_path / "gate"
    check = f'echo "$WT_LAND_TREE" >> {log}; while [ ! -e {gate} ]; do sleep 0.01; done'
    proc = spawn_land(repo, "alice", "--into", "main", "--check", check)
    deadline = time.monotonic() + 60
    while not log.exists():  # the first check is running: the target moves under it
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    write(repo, "main.txt", "m\n")
    res = wt_commit(repo, "-m", "main: meanwhile", "--", "main.txt")
    assert res.returncode == 0, res.stderr
    gate.touch()
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    assert subjects(repo)[:3] == ["alice: work", "main: meanwhile", "initial"]
    trees = log.read_text().split()
    assert len(trees) == 2 and trees[-1] == head(repo, "main^{tree}")  # checked again
    assert status(repo) == ""


def test_baseline_plain_update_ref_shows_staged_reversals(repo: Path) -> None:
    """The twin of test_the_target_checkout_follows_*: moving main with plain update-ref (the
    usual workaround for "don't touch the main repo") leaves its checkout behind."""
    tree = agent(repo, "alice", {"README": "alice\n"})
    git(repo, "update-ref", "refs/heads/main", head(tree))
    assert git(repo, "diff", "--cached", "--name-only").split() == ["README"]


def test_a_staged_change_in_the_target_checkout_is_left_alone(repo: Path) -> None:
    commit(repo, {"s.txt": "base\n"}, "main: s")
    agent(repo, "alice", {"s.txt": "alice\n", "other.txt": "o\n"})
    write(repo, "s.txt", "staged by a person\n")
    git(repo, "add", "s.txt")
    data = land(repo, "alice", "--into", "main")
    assert data["outcome"] == "landed" and data["checkouts"][0]["left_alone"] == ["s.txt"]
    assert git(repo, "show", ":s.txt") == "staged by a person\n"  # the staged entry is kept
    assert (repo / "other.txt").read_text() == "o\n"
    assert git(repo, "diff", "--cached", "--name-only").split() == ["s.txt"]


def test_an_agent_lands_into_main_through_the_guard(repo: Path) -> None:
    """With the reference-transaction guard installed, an agent may not move main with plain
    git; the lander's own compare-and-swap (and its checkout's HEAD) pass."""
    assert git_wt(repo, "hooks", "install").returncode == 0
    tree = agent(repo, "alice", {"a.txt": "1\n"})
    commit(repo, {"main.txt": "m\n"}, "main moved")
    as_alice = {"WT_AGENT": "alice"}
    plain = subprocess.run(
        ["git", "update-ref", "refs/heads/main", head(tree)],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **as_alice},
    )
    assert plain.returncode != 0 and "may not move branch main" in plain.stderr
    data = land(repo, "alice", "--into", "main", "--check", "true", env=as_alice)
    assert data["outcome"] == "landed" and (repo / "a.txt").exists() and status(repo) == ""
