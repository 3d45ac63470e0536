"""git wt alloc: placement, ownership, git's lock, idempotence, concurrency, bad input."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import GIT_WT, git, git_wt, run_all, snapshot, write, wt_commit

from .helpers import alloc, kill, record_path, spawn_owner, wt_json


def test_alloc_creates_a_locked_owned_worktree(repo: Path) -> None:
    owner = spawn_owner()
    try:
        data = wt_json(repo, "alloc", "a1", "--task", "fix parser", "--owner-pid", str(owner.pid))
    finally:
        kill(owner)
    path = Path(data["worktree"])
    assert path == repo.parent / "repo.worktrees" / "a1"
    assert (path / "src" / "app.py").read_text() == "print('v1')\n"
    assert git(path, "symbolic-ref", "HEAD").strip() == "refs/heads/wt/a1"
    assert data["base"] == "main" and data["task"] == "fix parser"
    assert data["owner"]["pid"] == owner.pid and data["owner"]["started_epoch"] > 0
    listing = git(repo, "worktree", "list", "--porcelain")
    assert f"worktree {path}\n" in listing and "locked git wt: owned by a1" in listing
    # git's own housekeeping cannot take it, even with its directory gone for a moment
    os.rename(path, path.with_name("moved"))
    git(repo, "worktree", "prune")
    os.rename(path.with_name("moved"), path)
    assert str(path) in git(repo, "worktree", "list")
    # wt-commit in that worktree acts as its owner by default
    admin = Path(data["admin_dir"])
    assert (admin / "wt-owner").read_text().strip() == "a1"
    write(path, "new.txt", "x\n")
    assert wt_commit(path, "-m", "add", "--", "new.txt").returncode == 0
    events = (repo / ".git" / "wt" / "events.jsonl").read_text().splitlines()
    assert json.loads(events[-1])["agent"] == "a1"
    # the record is plain JSON in the common git dir
    assert json.loads(record_path(repo, "a1").read_text())["state"] == "active"
    # git status of the main worktree does not see the placement
    assert git(repo, "status", "--porcelain") == ""


def test_alloc_is_idempotent_and_prints_one_line(repo: Path) -> None:
    first = git_wt(repo, "alloc", "a1", "--owner-pid", "0")
    second = git_wt(repo, "alloc", "a1", "--owner-pid", "0")
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout and first.stdout.count("\n") == 1
    assert len(git(repo, "worktree", "list").splitlines()) == 2
    mine = wt_json(Path(first.stdout.strip()) / "src", "status")["worktrees"]
    assert [r["agent"] for r in mine] == ["a1"]
    assert len(wt_json(repo, "status")["worktrees"]) == 2
    table = git_wt(repo, "list").stdout.splitlines()
    assert table[0].split()[:3] == ["AGENT", "LEASE", "HEARTBEAT"]
    assert table[2].split()[:2] == ["a1", "active"] and len(table) == 3
    again = wt_json(repo, "alloc", "a1", "--owner-pid", "0")
    assert again["reused"] is True


def test_alloc_options_and_placement_setting(repo: Path, tmp_path: Path) -> None:
    git(repo, "branch", "feature")
    git(repo, "config", "wt.worktreeDir", "../trees")
    path = alloc(repo, "b1", "--base", "feature", "--branch", "topic/b1", "--ttl", "60")
    assert path == (tmp_path / "trees" / "b1")
    data = wt_json(repo, "status", "b1")["worktrees"][0]
    assert data["branch"] == "topic/b1" and data["base"] == "feature" and data["ttl"] == 60
    explicit = alloc(repo, "b2", "--path", str(tmp_path / "elsewhere"))
    assert explicit == tmp_path / "elsewhere"


def test_sixteen_concurrent_allocs(repo: Path) -> None:
    procs = [
        subprocess.Popen(
            [GIT_WT, "alloc", f"agent{i}", "--owner-pid", "0", "--json"],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(16)
    ]
    # status polls running meanwhile must neither fail nor make an alloc fail
    polls = [
        subprocess.Popen([GIT_WT, "list", "--json"], cwd=repo, stdout=subprocess.PIPE)
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.wait(timeout=120) for p in polls] == [0] * 4
    codes = run_all(procs)
    errors = [err.decode() for _, err in outs]
    assert codes == [0] * 16, [(c, o, e) for c, (o, e) in zip(codes, outs, strict=True) if c]
    assert not any("lock" in e for e in errors), errors
    paths = {json.loads(out)["worktree"] for out, _ in outs}
    assert len(paths) == 16
    listed = git(repo, "worktree", "list", "--porcelain")
    assert all(f"worktree {p}\n" in listed for p in paths)
    assert len(wt_json(repo, "list")["worktrees"]) == 17


def test_bad_input_is_refused_without_change(repo: Path) -> None:
    alloc(repo, "a1")
    (repo.parent / "occupied").mkdir()
    write(repo.parent / "occupied", "keep.txt", "mine\n")
    before = snapshot(repo)
    cases = [
        (["alloc", "../evil"], "invalid agent name"),
        (["alloc", "a/b"], "invalid agent name"),
        (["alloc", "-x"], ""),
        (["alloc", "a2", "--base", "no-such-ref"], "does not name a commit"),
        (["alloc", "a2", "--path", str(repo.parent / "occupied")], "already exists"),
        (["alloc", "a2", "--branch", "bad..name"], "invalid branch name"),
        (["alloc", "a2", "--ttl", "0"], "--ttl"),
        (["alloc", "a1", "--path", str(repo.parent / "other")], "already owns"),
        (["alloc", "a2", "--path", str(repo.parent / "repo.worktrees/a1")], "not a2's worktree"),
        (["alloc", "a2", "--path", str(repo)], "not a2's worktree"),
    ]
    for args, message in cases:
        res = git_wt(repo, *args, "--owner-pid", "0")
        assert res.returncode == 2, (args, res.stderr)
        assert message in res.stderr, (args, res.stderr)
    res = git_wt(repo, "alloc", "a2", "--base", "nope", "--json")
    assert res.returncode == 2 and json.loads(res.stdout)["outcome"] == "invalid"
    assert snapshot(repo) == before
    assert (repo.parent / "occupied" / "keep.txt").read_text() == "mine\n"
    assert not (repo / ".git" / "wt" / "worktrees" / "a2").exists()
    assert "wt/a2" not in git(repo, "branch", "--list")


def test_alloc_on_an_existing_branch_checked_out_elsewhere_is_refused(repo: Path) -> None:
    res = git_wt(repo, "alloc", "a1", "--branch", "main", "--owner-pid", "0")
    assert res.returncode == 2 and "already checked out" in res.stderr


def test_alloc_killed_after_git_made_the_worktree_is_finished_by_a_retry(repo: Path) -> None:
    crashed = git_wt(repo, "alloc", "a1", "--owner-pid", "0", env={"WT_FAULT": "wt-alloc-added"})
    assert crashed.returncode == -9
    assert not record_path(repo, "a1").exists()
    path = alloc(repo, "a1")
    assert (path / "README").read_text() == "hello\n"
    assert git(path, "status", "--porcelain") == ""
    assert wt_json(repo, "status", "a1")["worktrees"][0]["lease"] == "active"


def test_gc_racing_allocs_never_prunes_a_worktree_being_created(repo: Path) -> None:
    """RACES.md R14: `git worktree prune` racing `git worktree add` can drop the half-made
    entry. Through git wt both run under one admin lock, and alloc's worktrees are locked from
    their first moment."""
    procs = [
        subprocess.Popen([GIT_WT, *args], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i in range(8)
        for args in (["alloc", f"r{i}", "--owner-pid", "0"], ["gc", "--json"])
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 16, [e for _, e in outs]
    listed = git(repo, "worktree", "list", "--porcelain")
    for i in range(8):
        assert f"worktree {repo.parent / 'repo.worktrees' / f'r{i}'}\n" in listed
        assert (repo.parent / "repo.worktrees" / f"r{i}" / "README").exists()


def test_a_worktree_removed_by_hand_comes_back_on_its_branch_after_gc(repo: Path) -> None:
    """R14: a directory removed by hand keeps its branch "already used" until prune."""
    import shutil

    owner = spawn_owner()
    path = alloc(repo, "a1", owner=owner.pid)
    write(path, "f.txt", "committed\n")
    assert wt_commit(path, "-m", "f", "--", "f.txt").returncode == 0
    shutil.rmtree(path)
    res = git_wt(repo, "alloc", "a1", "--owner-pid", "0")
    assert res.returncode == 2 and "missing" in res.stderr and "git wt gc" in res.stderr
    kill(owner)
    assert git_wt(repo, "gc").returncode == 0
    again = alloc(repo, "a1")
    assert again == path and (path / "f.txt").read_text() == "committed\n"
    assert git(path, "symbolic-ref", "--short", "HEAD").strip() == "wt/a1"


def test_alloc_runs_the_post_checkout_hook_like_git_worktree_add(repo: Path) -> None:
    hook = write(repo, ".git/hooks/post-checkout", '#!/bin/sh\necho "$1 $3" > hook-ran\n')
    hook.chmod(0o755)
    path = alloc(repo, "a1")
    assert (path / "hook-ran").read_text() == "0000000000000000000000000000000000000000 1\n"
