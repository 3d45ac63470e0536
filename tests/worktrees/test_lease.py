"""Leases: heartbeat, TTL expiry, owner death judged by pid and start time, other hosts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from conftest import git_wt, snapshot

from .helpers import alloc, edit_record, kill, lease_of, record_path, spawn_owner, wt_json

LONG_AGO = "2000-01-01T00:00:00+00:00"


def test_heartbeat_renews_an_expired_lease(repo: Path) -> None:
    owner = spawn_owner()
    try:
        alloc(repo, "a1", "--ttl", "600", owner=owner.pid)
        assert lease_of(repo, "a1") == "active"
        edit_record(repo, "a1", heartbeat=LONG_AGO)
        assert lease_of(repo, "a1") == "expired"
        data = wt_json(repo, "heartbeat", "a1")
        assert data["lease_before"] == "expired"
        assert lease_of(repo, "a1") == "active"
        row = wt_json(repo, "status", "a1")["worktrees"][0]
        assert row["heartbeat_age"] < 600 and row["owner_alive"] is True
    finally:
        kill(owner)


def test_killed_owner_is_dead_and_a_reused_pid_is_not_the_owner(repo: Path) -> None:
    owner = spawn_owner()
    alloc(repo, "a1", owner=owner.pid)
    kill(owner)
    assert lease_of(repo, "a1") == "owner_dead"
    # Pid reuse: a live process has the recorded pid, but it started at another time.
    other = spawn_owner()
    try:
        alloc(repo, "a2", owner=other.pid)
        started = json.loads(record_path(repo, "a2").read_text())["owner"]["started"]
        edit_record(repo, "a2", owner_started=started - 1000)
        assert lease_of(repo, "a2") == "owner_dead"
        edit_record(repo, "a2", owner_started=started)
        assert lease_of(repo, "a2") == "active"
    finally:
        kill(other)


def test_a_lease_from_another_host_is_judged_by_its_ttl(repo: Path) -> None:
    alloc(repo, "a1", "--ttl", "600")
    # pid 999999 does not exist here, which says nothing about a process on another host
    edit_record(repo, "a1", owner_host="elsewhere.example", owner_pid=999999, owner_started=1.0)
    assert lease_of(repo, "a1") == "active"
    edit_record(repo, "a1", heartbeat=LONG_AGO)
    assert lease_of(repo, "a1") == "expired"
    gc = wt_json(repo, "gc")
    assert [i["action"] for i in gc["worktrees"]] == ["removed"]


def test_expired_lease_of_a_live_local_owner_is_not_reaped(repo: Path) -> None:
    owner = spawn_owner()
    try:
        path = alloc(repo, "a1", owner=owner.pid)
        edit_record(repo, "a1", heartbeat=LONG_AGO)
        assert lease_of(repo, "a1") == "expired"
        item = wt_json(repo, "gc")["worktrees"][0]
        assert item["action"] == "kept" and "alive" in item["reason"]
        assert path.is_dir()
    finally:
        kill(owner)


def test_heartbeat_bad_input(repo: Path) -> None:
    alloc(repo, "a1")
    before = snapshot(repo)
    res = git_wt(repo, "heartbeat", "nobody")
    assert res.returncode == 2 and "unknown agent 'nobody'" in res.stderr
    assert git_wt(repo, "heartbeat", "../x").returncode == 2
    assert git_wt(repo, "heartbeat", "a1", "--ttl", "-5").returncode == 2
    assert snapshot(repo) == before
    wt_json(repo, "release", "a1", "--state", "done")
    res = git_wt(repo, "heartbeat", "a1")
    assert res.returncode == 6 and "released" in res.stderr


def test_a_corrupt_record_is_reported_and_nothing_changes(repo: Path) -> None:
    path = alloc(repo, "a1")
    alloc(repo, "a2")
    edit_record(repo, "a2", heartbeat=LONG_AGO)  # collectable, if gc were careless
    record = record_path(repo, "a1")
    record.write_text('{"version": 1, "agent": "a1", "pa')  # torn by hand
    before = snapshot(repo)
    for args in (["heartbeat", "a1"], ["release", "a1"], ["show", "a1"], ["gc"]):
        res = git_wt(repo, *args)
        assert res.returncode == 2, (args, res.stderr)
        assert "is corrupt" in res.stderr and str(record) in res.stderr
    res = git_wt(repo, "list", "--json")
    assert res.returncode == 2
    rows = json.loads(res.stdout)["worktrees"]
    assert {r["agent"]: r["lease"] for r in rows if r["agent"]}["a1"] == "corrupt"
    assert snapshot(repo) == before
    assert path.is_dir()
    assert record.read_text() == '{"version": 1, "agent": "a1", "pa'


def test_the_default_owner_is_the_agent_behind_git_and_the_shell(repo: Path) -> None:
    out = repo.parent / "alloc.json"
    script = (
        "import subprocess, sys, time\n"
        "subprocess.run(['sh', '-c', "
        f"'git wt alloc a1 --json > {out}.tmp && mv {out}.tmp {out}'])\n"
        "time.sleep(3600)\n"
    )
    agent = subprocess.Popen([sys.executable, "-c", script], cwd=repo)
    try:
        while not out.exists():
            assert agent.poll() is None
            time.sleep(0.02)
        data = json.loads(out.read_text())
        assert data["owner"]["pid"] == agent.pid
        assert lease_of(repo, "a1") == "active"
    finally:
        kill(agent)
    assert lease_of(repo, "a1") == "owner_dead"


def test_a_crash_while_writing_a_record_leaves_the_old_one_whole(repo: Path) -> None:
    alloc(repo, "a1")
    edit_record(repo, "a1", heartbeat=LONG_AGO)
    before = record_path(repo, "a1").read_bytes()
    crashed = git_wt(repo, "heartbeat", "a1", env={"WT_FAULT": "wt-record-written"})
    assert crashed.returncode == -9
    assert record_path(repo, "a1").read_bytes() == before
    assert lease_of(repo, "a1") == "expired"
    assert wt_json(repo, "heartbeat", "a1")["lease_before"] == "expired"
    assert lease_of(repo, "a1") == "active"
