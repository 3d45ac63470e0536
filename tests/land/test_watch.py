"""`git wt watch` reports queued, stuck and handed-back land requests."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import git, git_wt

from .helpers import agent, commit, land


def findings(repo: Path) -> dict[str, set[str]]:
    res = git_wt(repo, "watch", "--once", "--json", "--no-journal", "--lock-threshold", "0")
    out: dict[str, set[str]] = {}
    for f in json.loads(res.stdout)["findings"]:
        out.setdefault(f["kind"], set()).add(f.get("branch") or f["subject"])
    return out


def test_watch_reports_queued_stuck_and_handed_back(repo: Path) -> None:
    git(repo, "config", "wt.land.autostart", "false")  # nobody lands: the request is stuck
    agent(repo, "alice", {"a.txt": "1\n"})
    tree = agent(repo, "bob", {"README": "bob\n"})
    commit(repo, {"README": "main\n"}, "main: readme")
    land(repo, "bob", "--into", "main", expect=4)
    land(repo, "alice", "--into", "main", "--no-wait")
    seen = findings(repo)
    assert seen["land_queued"] == {"wt/alice"} and seen["land_stuck"] == {"wt/alice"}
    assert seen["land_handed_back"] == {"wt/bob"}
    # bob fixes his branch and lands; alice's queue is run: nothing left to report
    git(tree, "reset", "-q", "--hard", "main")
    commit(tree, {"bob.txt": "redone\n"}, "bob: redone on main")
    land(repo, "bob", "--into", "main")
    land(repo, "--run", "--into", "main")
    seen = findings(repo)
    assert not {"land_queued", "land_stuck", "land_handed_back"} & set(seen), seen
