"""Slots as leases: distinct among live agents (12 at once), stable per agent, freed by gc and
by release as done, taken over only from a dead or expired owner."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from conftest import GIT_WT, git_wt, snapshot
from worktrees.helpers import alloc, edit_record, kill, spawn_owner, wt_json


def _slot(repo: Path, agent: str, name: str, *args: str, expect: int = 0) -> dict[str, Any]:
    return wt_json(repo, "slot", agent, name, *args, expect=expect)


def _env_file(tree: Path) -> dict[str, str]:
    lines = (tree / ".wt" / "env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_twelve_agents_allocating_at_once_get_distinct_slots(repo: Path) -> None:
    procs = [
        subprocess.Popen(
            [
                GIT_WT,
                "alloc",
                f"agent{i}",
                "--owner-pid",
                "0",
                "--slot",
                "web",
                "--slot",
                "db",
                "--json",
            ],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(12)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 12, [e for _, e in outs]
    numbers: list[int] = []
    for out, _ in outs:
        data = json.loads(out)
        held = data["env"]["slots"]
        assert set(held) == {"web", "db"}
        numbers += held.values()
        env = _env_file(Path(data["worktree"]))
        assert env["WT_PORT_WEB"] == str(held["web"]) and env["WT_PORT_DB"] == str(held["db"])
        assert env["WT_AGENT"] == data["agent"]
    assert len(set(numbers)) == 24 and all(3000 <= n <= 3999 for n in numbers)
    listed = wt_json(repo, "list")["worktrees"]
    assert sum(len(r["slots"]) for r in listed) == 24


def test_a_slot_is_stable_for_its_agent_and_shown(repo: Path) -> None:
    tree = alloc(repo, "a1")
    first = _slot(repo, "a1", "web")
    assert first["outcome"] == "ok" and first["worktree"] == str(tree)
    again = _slot(repo, "a1", "web")
    assert again["outcome"] == "unchanged" and again["number"] == first["number"]
    data = wt_json(repo, "alloc", "a1", "--owner-pid", "0", "--slot", "web")
    assert data["env"]["slots"] == {"web": first["number"]}
    shown = wt_json(repo, "show", "a1")
    assert shown["slots"] == {"web": first["number"]}
    assert shown["env_file"] == str(tree / ".wt" / "env")
    assert git_wt(repo, "slot", "a1", "web").stdout.strip() == str(first["number"])
    moved = _slot(repo, "a1", "web", "--range", "5000-5009")
    assert 5000 <= moved["number"] <= 5009
    assert _env_file(tree)["WT_PORT_WEB"] == str(moved["number"])


def test_a_live_holder_keeps_its_slot(repo: Path) -> None:
    owner = spawn_owner()
    try:
        alloc(repo, "a1", owner=owner.pid)
        alloc(repo, "a2")
        assert _slot(repo, "a1", "web", "--range", "4000-4000")["number"] == 4000
        refused = _slot(repo, "a2", "web", "--range", "4000-4000", expect=6)
        assert refused["outcome"] == "rejected" and "held by a live agent" in refused["error"]
        assert refused["fix"].startswith("git wt slot a2 web --range")
    finally:
        kill(owner)


def test_a_slot_of_a_dead_owner_is_taken_over(repo: Path) -> None:
    owner = spawn_owner()
    alloc(repo, "a1", owner=owner.pid)
    _slot(repo, "a1", "web", "--range", "4000-4000")
    kill(owner)
    alloc(repo, "a2")
    res = git_wt(repo, "slot", "a2", "web", "--range", "4000-4000", "--json")
    data = json.loads(res.stdout)
    assert res.returncode == 0 and data["number"] == 4000 and data["taken_over_from"] == "a1"
    assert "took web 4000 over from a1" in res.stderr
    assert wt_json(repo, "show", "a1")["slots"] == {}


def test_a_slot_of_an_expired_lease_is_taken_over(repo: Path) -> None:
    alloc(repo, "a1")
    _slot(repo, "a1", "web", "--range", "4000-4000")
    edit_record(repo, "a1", heartbeat="2020-01-01T00:00:00+00:00", ttl=1.0)
    alloc(repo, "a2")
    assert _slot(repo, "a2", "web", "--range", "4000-4000")["taken_over_from"] == "a1"


def test_a_slot_freed_by_gc_goes_to_the_next_agent(repo: Path) -> None:
    alloc(repo, "a1")
    _slot(repo, "a1", "web", "--range", "4000-4000")
    alloc(repo, "a2")
    _slot(repo, "a2", "web", "--range", "4000-4000", expect=6)
    assert wt_json(repo, "release", "a1", "--state", "done")["outcome"] == "ok"
    assert wt_json(repo, "gc")["worktrees"][0]["action"] == "removed"
    taken = _slot(repo, "a2", "web", "--range", "4000-4000")
    assert taken["number"] == 4000 and taken["taken_over_from"] is None


def test_release_as_done_frees_the_slot(repo: Path) -> None:
    alloc(repo, "a1")
    _slot(repo, "a1", "web", "--range", "4000-4000")
    alloc(repo, "a2")
    wt_json(repo, "release", "a1", "--state", "done")
    assert _slot(repo, "a2", "web", "--range", "4000-4000")["number"] == 4000
    alloc(repo, "a3")
    wt_json(repo, "release", "a2", "--state", "handoff")  # a handoff keeps it for the adopter
    _slot(repo, "a3", "web", "--range", "4000-4000", expect=6)


def test_bad_slot_requests_change_nothing(repo: Path) -> None:
    alloc(repo, "a1")
    before = snapshot(repo)
    for args, message in (
        (["slot", "a1", "Web"], "invalid slot name"),
        (["slot", "a1", "web", "--range", "9-1"], "invalid range"),
        (["slot", "nobody", "web"], "unknown agent"),
        (["alloc", "a2", "--slot", "no way"], "invalid slot name"),
    ):
        res = git_wt(repo, *args, "--json")
        assert res.returncode == 2 and message in json.loads(res.stdout)["error"], args
    assert snapshot(repo) == before
    assert not (repo / ".git" / "wt" / "worktrees" / "a2").exists()


def test_a_corrupt_slot_table_is_reported_not_overwritten(repo: Path) -> None:
    alloc(repo, "a1")
    table = repo / ".git" / "wt" / "env" / "slots.json"
    table.parent.mkdir(parents=True, exist_ok=True)
    table.write_text('{"version": 1, "slots": [{"name": 3}]}')
    data = _slot(repo, "a1", "web", expect=2)
    assert str(table) in data["error"] and "move away" in data["fix"]
    assert table.read_text() == '{"version": 1, "slots": [{"name": 3}]}'
    assert wt_json(repo, "show", "a1")["outcome"] == "ok"
