"""release / show / adopt: handoff records, the blocked state, refusing live takeovers."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import git, git_wt, snapshot, write, wt_commit

from .helpers import alloc, kill, lease_of, spawn_owner, wt_json


def _events(repo: Path, action: str) -> list[dict[str, object]]:
    lines = (repo / ".git" / "wt" / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e.get("action") == action]


def test_release_writes_a_handoff_computed_from_the_branch(repo: Path) -> None:
    path = alloc(repo, "a1", "--task", "parser")
    write(path, "src/parser.py", "def parse(): ...\n")
    assert wt_commit(path, "-m", "add parser", "--", "src/parser.py").returncode == 0
    write(path, "notes.txt", "half done\n")
    data = wt_json(
        repo,
        "release",
        "a1",
        "--state",
        "handoff",
        "--note",
        "error handling remains",
        "--next",
        "write tests for parse()",
        "--assume",
        "input is UTF-8",
    )
    handoff = data["handoff"]
    assert [c["subject"] for c in handoff["commits"]] == ["add parser"]
    assert handoff["files"] == [{"status": "A", "path": "src/parser.py"}]
    assert handoff["uncommitted"] == [{"status": "??", "path": "notes.txt"}]
    assert handoff["next_step"] == "write tests for parse()"
    assert handoff["remaining"] == "error handling remains"
    assert handoff["assumptions"] == ["input is UTF-8"] and handoff["task"] == "parser"
    assert lease_of(repo, "a1") == "released"
    on_disk = json.loads((repo / ".git/wt/worktrees/a1/handoff.json").read_text())
    assert on_disk.pop("version") == 1  # the file's format; the output has schema_version
    assert on_disk == handoff
    assert _events(repo, "release")[-1]["handoff"] == handoff
    row = wt_json(repo, "status", "a1")["worktrees"][0]
    assert row["handoff"] is True and row["ahead"] == 1 and row["untracked"] == 1
    shown = git_wt(repo, "show", "a1")
    assert shown.returncode == 0
    assert "next step: write tests for parse()" in shown.stdout and "add parser" in shown.stdout


def test_blocked_is_explicit_and_needs_its_reason(repo: Path) -> None:
    alloc(repo, "a1")
    before = snapshot(repo)
    res = git_wt(repo, "release", "a1", "--state", "blocked")
    assert res.returncode == 2 and "needs its reason" in res.stderr
    assert snapshot(repo) == before
    data = wt_json(
        repo, "release", "a1", "--state", "blocked", "--blocker", "needs approval to deploy"
    )
    assert data["handoff"]["blockers"] == ["needs approval to deploy"]
    assert lease_of(repo, "a1") == "blocked"
    # gc keeps a blocked worktree: a human is expected
    assert wt_json(repo, "gc")["worktrees"][0]["action"] == "kept"
    assert "needs approval" in git_wt(repo, "show", "a1").stdout


def test_adopt_refuses_a_live_worktree_unless_forced(repo: Path) -> None:
    owner = spawn_owner()
    try:
        path = alloc(repo, "a1", owner=owner.pid)
        before = snapshot(repo)
        res = git_wt(repo, "adopt", "a1", "--as", "b1", "--json")
        assert res.returncode == 6
        assert json.loads(res.stdout)["outcome"] == "rejected"
        assert snapshot(repo) == before and lease_of(repo, "a1") == "active"
        forced = git_wt(repo, "adopt", "a1", "--as", "b1", "--force", "--owner-pid", "0")
        assert forced.returncode == 0
        assert "wt: forcibly took over a1's live worktree" in forced.stderr
    finally:
        kill(owner)
    row = wt_json(repo, "status", "b1")["worktrees"][0]
    assert row["forced"] is True and row["adopted_from"] == "a1" and row["worktree"] == str(path)
    assert _events(repo, "adopt")[-1]["forced"] is True
    assert git_wt(repo, "status", "a1").returncode == 2  # a1 owns nothing now


def test_adopt_a_dead_owners_worktree(repo: Path) -> None:
    owner = spawn_owner()
    path = alloc(repo, "a1", owner=owner.pid)
    write(path, "wip.txt", "wip\n")
    kill(owner)
    data = wt_json(repo, "adopt", "a1", "--as", "b1", "--owner-pid", "0")
    assert data["lease_before"] == "owner_dead" and data["forced"] is False
    assert data["handoff"]["uncommitted"] == [{"status": "??", "path": "wip.txt"}]
    admin = Path(data["admin_dir"])
    assert (admin / "wt-owner").read_text().strip() == "b1"
    assert "locked git wt: owned by b1" in git(repo, "worktree", "list", "--porcelain")
    assert (path / "wip.txt").read_text() == "wip\n"
    # the new owner's commits default to its name
    assert wt_commit(path, "-m", "wip", "--", "wip.txt").returncode == 0
    assert _events(repo, "commit")[-1]["agent"] == "b1"
    text = git_wt(repo, "show", "b1").stdout
    assert "adopted from a1" in text and "adopted by b1" in text


def test_adopt_and_show_bad_input(repo: Path) -> None:
    alloc(repo, "a1")
    alloc(repo, "a2")
    wt_json(repo, "release", "a1", "--state", "handoff")
    before = snapshot(repo)
    for args in (
        ["adopt", "ghost", "--as", "b1"],
        ["adopt", "a1", "--as", "a2"],
        ["adopt", "a1", "--as", "a1"],
        ["adopt", "a1", "--as", "bad/name"],
        ["show", "ghost"],
        ["release", "ghost"],
        ["status", "ghost"],
    ):
        res = git_wt(repo, *args)
        assert res.returncode == 2, (args, res.stderr)
    assert snapshot(repo) == before
