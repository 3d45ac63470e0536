"""`git wt watch` sees the board: dead owners, expired claims, long human blocks, idle claims."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import git_wt

from .helpers import task


def _findings(repo: Path, *args: str) -> dict[str, dict[str, object]]:
    proc = git_wt(repo, "watch", "--once", "--json", "--no-journal", *args)
    data = json.loads(proc.stdout)
    return {f["kind"] + ":" + f["subject"]: f for f in data["findings"]}


def test_watch_reports_the_board(repo: Path) -> None:
    for title in ("dies", "expires", "waits", "idles", "fine"):
        task(repo, "add", title)
    assert not [k for k in _findings(repo) if k.startswith("task_")]
    owner = subprocess.Popen(["sleep", "300"])
    task(repo, "claim", "T1", "--owner-pid", str(owner.pid), agent="a1")
    owner.kill()
    owner.wait()
    task(repo, "claim", "T2", "--ttl", "0.000001", "--owner-pid", "0", agent="a2")
    task(repo, "block", "T3", "--on", "human", "--reason", "needs the API key")
    task(repo, "claim", "T4", agent="a4")
    found = _findings(repo, "--task-blocked-after", "0", "--task-idle-after", "0")
    kinds = {k for k in found if k.startswith("task_")}
    assert kinds == {
        "task_owner_dead:T1",
        "task_claim_expired:T2",
        "task_blocked_long:T3",
        "task_idle:T4",
    }
    assert "needs the API key" in str(found["task_blocked_long:T3"]["detail"])
    # Default thresholds: a fresh block and a fresh claim are not news.
    calm = {k for k in _findings(repo) if k.startswith("task_")}
    assert calm == {"task_owner_dead:T1", "task_claim_expired:T2"}
