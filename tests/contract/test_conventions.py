"""The conventions every --json object keeps (docs/json.md): one time format, `worktree` for a
worktree's directory, the record flat, `null` for absent, one vocabulary for states; and what
0.1.0 wrote to disk is still read and shown in the new format."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import git_wt
from worktrees.helpers import record_path, wt_json

from worktree_tools.contract import conventions
from worktree_tools.core import times


def test_one_time_format_round_trips() -> None:
    stamp = times.iso(1795969027.5)
    assert stamp == "2026-11-29T16:17:07.500000Z"
    assert times.parse(stamp) == 1795969027.5
    assert times.parse("2026-11-29T16:17:07.500000+00:00") == 1795969027.5  # as 0.1.0 wrote
    assert times.normal("2026-11-29T17:17:07.5+01:00") == stamp
    assert times.normal(None) is None and times.normal("garbage") == "garbage"


def test_the_checker_names_each_broken_convention() -> None:
    broken = {
        "detail": "",
        "created": "2026-11-29T15:37:07.500000+00:00",
        "rows": [{"expires_at": 1795969027.5, "expires_epoch": "soon"}],
        "ok_at": None,
        "started_epoch": 1.5,
    }
    assert conventions.violations(broken) == [
        '$.detail is "" (absent values are null)',
        "$.created = '2026-11-29T15:37:07.500000+00:00' is not an ISO 8601 UTC time with Z",
        "$.rows[0].expires_at = 1795969027.5 is not an ISO 8601 UTC time with Z",
        "$.rows[0].expires_epoch = 'soon' is not epoch seconds",
    ]


def test_the_record_is_flat_with_worktree_everywhere(repo: Path) -> None:
    made = wt_json(repo, "alloc", "a1", "--owner-pid", "0")
    assert "path" not in made and "version" not in made
    shown = wt_json(repo, "show", "a1")
    beat = wt_json(repo, "heartbeat", "a1")
    released = wt_json(repo, "release", "a1")
    adopted = wt_json(repo, "adopt", "a1", "--as", "b1", "--owner-pid", "0")
    for data in (made, shown, beat, released, adopted):
        assert "record" not in data and data["worktree"] == made["worktree"]
        assert data["created"] == made["created"] and data["created"].endswith("Z")
    assert (
        beat["lease_before"] == "active"
        and times.parse(beat["expires_at"])
        == beat["expires_epoch"]
        == times.parse(beat["heartbeat"]) + beat["ttl"]
    )
    assert adopted["agent"] == "b1" and adopted["adopted_from"] == "a1"
    (row,) = wt_json(repo, "list")["worktrees"][1:]
    assert row["worktree"] == made["worktree"] and "path" not in row
    log = wt_json(repo, "log")["events"]
    assert [e["worktree"] for e in log if e["action"] in ("alloc", "adopt")] == [
        made["worktree"]
    ] * 2


def test_what_0_1_0_wrote_is_read_and_shown_in_the_new_format(repo: Path) -> None:
    made = wt_json(repo, "alloc", "a1", "--owner-pid", "0")
    path = record_path(repo, "a1")
    old = json.loads(path.read_text())
    old["created"] = old["heartbeat"] = old["created"].replace("Z", "+00:00")
    path.write_text(json.dumps(old))
    log = repo / ".git" / "wt" / "events.jsonl"
    log.write_text(log.read_text().replace('Z"', '+00:00"'))
    shown = wt_json(repo, "show", "a1")
    assert shown["lease"] == "active" and shown["created"] == made["created"]
    events = json.loads(git_wt(repo, "log", "--json").stdout)["events"]
    assert events and all(e["ts"].endswith("Z") for e in events)
