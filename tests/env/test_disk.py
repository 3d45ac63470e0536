"""Disk use in `list` (links not followed, cached) and gc's budgets: oldest released worktrees
collected first, their work rescued, active and blocked ones never touched."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from conftest import git, git_wt, write
from worktrees.helpers import alloc, edit_record, rescues, wt_json

MB = 1 << 20


def _rows(repo: Path) -> dict[str, dict[str, Any]]:
    return {r["agent"] or "main": r for r in wt_json(repo, "list")["worktrees"]}


def test_list_shows_disk_use_without_following_links_and_caches_it(
    repo: Path, tmp_path: Path
) -> None:
    tree = alloc(repo, "a1")
    write(tree, "big.bin", b"x" * (2 * MB))
    write(tmp_path, "outside/huge.bin", b"y" * (8 * MB))
    (tree / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    rows = _rows(repo)
    assert rows["main"]["disk_bytes"] is None  # the main worktree (git objects too) is not walked
    row = rows["a1"]
    assert 2 * MB <= row["disk_bytes"] < 3 * MB
    assert row["disk_measured_epoch"] > 0 and row["disk_files"] >= 3
    write(tree, "more.bin", b"z" * (3 * MB))
    assert _rows(repo)["a1"]["disk_bytes"] == row["disk_bytes"]  # cached
    git(repo, "config", "wt.disk.cacheTtl", "0")
    assert _rows(repo)["a1"]["disk_bytes"] >= 5 * MB
    table = git_wt(repo, "list").stdout.splitlines()
    assert "DISK" in table[0].split()
    assert any(line.startswith("a1") and "M  " in line for line in table)


def test_hard_links_are_counted_once_and_reported_as_shared(repo: Path) -> None:
    write(repo, ".gitignore", "node_modules/\n")
    write(repo, ".worktreeinclude", "node_modules/\n")
    git(repo, "add", ".gitignore", ".worktreeinclude")
    git(repo, "commit", "-qm", "include")
    write(repo, "node_modules/a.js", b"a" * MB)
    git(repo, "config", "wt.include.mode", "link")
    tree = alloc(repo, "a1")
    (tree / "node_modules" / "again.js").hardlink_to(tree / "node_modules" / "a.js")
    row = _rows(repo)["a1"]
    assert MB <= row["disk_bytes"] < 2 * MB and row["disk_shared_bytes"] >= MB


def _released(repo: Path, agent: str, days_ago: float, size: int) -> Path:
    tree = alloc(repo, agent)
    write(tree, "data.bin", b"d" * size)
    wt_json(repo, "release", agent, "--state", "handoff")
    stamp = datetime.now(timezone.utc) - timedelta(days=days_ago)
    edit_record(repo, agent, released_at=stamp.isoformat())
    return tree


def test_max_disk_collects_the_oldest_released_first_never_active_or_blocked(
    repo: Path,
) -> None:
    old = _released(repo, "old", 3, MB)
    mid = _released(repo, "mid", 2, MB)
    new = _released(repo, "new", 1, MB)
    active = alloc(repo, "busy")
    write(active, "data.bin", b"a" * (4 * MB))
    blocked = alloc(repo, "stuck")
    write(blocked, "data.bin", b"b" * (4 * MB))
    wt_json(repo, "release", "stuck", "--state", "blocked", "--blocker", "needs a human")
    rows = _rows(repo)
    total = sum(r["disk_bytes"] for name, r in rows.items() if name != "main")
    git(repo, "config", "wt.gc.maxDisk", str(total - MB // 2))  # one released one is enough
    plan = {i["agent"]: i["action"] for i in wt_json(repo, "gc", "--dry-run")["worktrees"]}
    assert plan == {
        "old": "would_remove",
        "mid": "kept",
        "new": "kept",
        "busy": "kept",
        "stuck": "kept",
    }
    done = {i["agent"]: i for i in wt_json(repo, "gc")["worktrees"]}
    assert done["old"]["action"] == "removed" and "wt.gc.maxDisk" in done["old"]["reason"]
    assert done["old"]["rescue"]  # its uncommitted data.bin was saved first
    assert not old.exists() and mid.exists() and new.exists()
    git(repo, "config", "wt.gc.maxDisk", "1K")
    done = {i["agent"]: i["action"] for i in wt_json(repo, "gc")["worktrees"]}
    assert done == {"mid": "removed", "new": "removed", "busy": "kept", "stuck": "kept"}
    assert active.exists() and blocked.exists()
    assert {r["agent"] for r in rescues(repo)} == {"old", "mid", "new"}


def test_max_age_collects_released_worktrees_older_than_it(repo: Path) -> None:
    _released(repo, "old", 5, 1000)
    fresh = alloc(repo, "fresh")
    wt_json(repo, "release", "fresh", "--state", "handoff")
    git(repo, "config", "wt.gc.maxAge", "2d")
    done = {i["agent"]: i for i in wt_json(repo, "gc")["worktrees"]}
    assert done["old"]["action"] == "removed" and "wt.gc.maxAge" in done["old"]["reason"]
    assert done["fresh"]["action"] == "kept" and fresh.exists()


def test_bad_budget_settings_are_refused(repo: Path) -> None:
    alloc(repo, "a1")
    wt_json(repo, "release", "a1", "--state", "handoff")
    for key, value in (("wt.gc.maxDisk", "lots"), ("wt.gc.maxAge", "soon")):
        git(repo, "config", key, value)
        res = git_wt(repo, "gc", "--json")
        assert res.returncode == 2 and key in json.loads(res.stdout)["error"]
        git(repo, "config", "--unset", key)
    assert _rows(repo)["a1"]["lease"] == "released"


def test_watch_reports_worktrees_over_the_disk_budget_and_writes_nothing(repo: Path) -> None:
    tree = alloc(repo, "a1")
    write(tree, "data.bin", b"w" * (2 * MB))
    res = git_wt(repo, "watch", "--once", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["findings"] == []
    git(repo, "config", "wt.gc.maxDisk", "1M")
    cache = repo / ".git" / "wt" / "env" / "disk.json"
    res = git_wt(repo, "watch", "--once", "--json")
    assert res.returncode == 7
    (finding,) = json.loads(res.stdout)["findings"]
    assert finding["kind"] == "disk_over_budget" and finding["max_disk_bytes"] == MB
    assert finding["worktrees"][0]["agent"] == "a1"
    assert finding["worktrees"][0]["disk_bytes"] >= 2 * MB
    assert not cache.exists()  # a watcher never writes
