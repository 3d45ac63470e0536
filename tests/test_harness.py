"""scripts/harness: a short run loses nothing and leaves no lock; its checker catches a loss and a
left lock when they are made on purpose. No timing is asserted. The full run (16 agents x 50
operations, 10% killed) is `scripts/harness`; its figures are in BENCHMARKS.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def harness(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [os.fspath(SCRIPTS / "harness"), *args, "--json", os.fspath(report)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    data: dict[str, Any] = json.loads(report.read_text()) if report.exists() else {}
    return proc, data


def test_short_run_under_faults_loses_nothing(tmp_path: Path) -> None:
    proc, r = harness(tmp_path, "--agents", "4", "--ops", "8", "--kill-rate", "0.25", "--seed", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("harness: OK: nothing lost")
    assert r["failures"] == []
    assert (r["lost"], r["duplicated"], r["locks_left"]) == (0, 0, 0)
    assert r["fsck_clean"] and r["journal_verified"]
    # The run did what it claims: kills happened, work was committed and checked.
    assert r["processes_killed"] > 0
    assert r["killed_by_method"].get("agent", 0) == 1
    assert r["reported_committed"] > 0
    assert r["changes_checked"] == (
        r["reported_committed"]
        + r["landed_unreported"]
        + r["uncommitted_in_worktree"]
        + r["uncommitted_in_rescue_ref"]
    )
    assert any("corrupted" in f for f in r["faults_injected"])
    assert any("stale index.lock" in f for f in r["faults_injected"])
    for line in (
        "PASS  every change reported committed is in history exactly once",
        "PASS  git fsck is clean",
        "PASS  no lock is left held",
        "PASS  the journal verifies on every branch",
    ):
        assert line in proc.stdout
    # BENCHMARKS.md renders the report: its command (without the scratch --json), the machine.
    sys.path.insert(0, os.fspath(SCRIPTS))
    from gen_benchmarks import render_markdown  # type: ignore[import-not-found]

    bench = {k: r[k] for k in ("command", "date", "machine", "source")}
    text = render_markdown({**bench, "command": "scripts/bench", "sections": []}, r)
    assert "## Fault-injection harness" in text
    assert "`scripts/harness --agents 4 --ops 8 --kill-rate 0.25 --seed 3`" in text
    assert f"| **lost** | {r['lost']} |" in text
    assert "✅ met | harness: changes lost (4 agents x 8 ops, " in text
    assert "| harness: share of processes killed |" in text
    assert f"{r['machine']['nproc']} CPUs" in text


def test_checker_reports_lost_commits(tmp_path: Path) -> None:
    proc, r = harness(
        tmp_path, "--agents", "2", "--ops", "4", "--kill-rate", "0", "--sabotage", "drop-branch"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert r["lost"] > 0
    assert "FAIL  every change reported committed is in history exactly once" in proc.stdout
    assert "reported committed, not in any branch" in proc.stdout
    assert "harness: FAILED" in proc.stdout


def test_checker_reports_a_lock_left(tmp_path: Path) -> None:
    proc, r = harness(
        tmp_path, "--agents", "2", "--ops", "3", "--kill-rate", "0", "--sabotage", "leave-lock"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert r["lost"] == 0
    assert r["locks_left"] == 1
    assert r["git_locks_left"][0].endswith("index.lock")
    assert "FAIL  no lock is left held" in proc.stdout
