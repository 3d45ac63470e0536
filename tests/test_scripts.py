"""scripts/demo and scripts/bench run end to end and report success. No timing is asserted:
the figures depend on the machine; only exit codes and the summary lines are checked."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [os.fspath(SCRIPTS / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_demo_commits_only_each_agents_own_paths() -> None:
    proc = run_script("demo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "git log --oneline --graph" in out
    assert "  failures: 0" in out
    assert "  foreign files: none" in out
    assert "staged, dirty and untracked files: intact" in out
    assert "PROBLEM" not in out
    assert out.rstrip().endswith("demo: OK")


def test_bench_quick_prints_every_section(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    proc = run_script("bench", "--quick", "--json", os.fspath(figures))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.startswith("command: scripts/bench --quick --json ")
    assert "machine: " in out
    assert "wt-commit / flock wrapper" in out
    assert "MET      failed commits, all levels: 0" in out
    assert "targets met: " in out
    report = json.loads(figures.read_text())
    assert [s["name"] for s in report["sections"]] == [
        "latency", "latency_large", "concurrency", "fleet", "worktrees", "paths", "env",
        "journal", "hooks", "remote", "tasks", "untrusted", "guard", "land",
    ]  # fmt: skip
    section = next(s for s in report["sections"] if s["name"] == "concurrency")
    assert section["figures"]["failures"] == 0
    assert section["figures"]["reported_but_not_landed"] == 0
    assert [row[0] for row in section["rows"]] == ["1", "4", "8"]


def test_bench_only_selects_one_section() -> None:
    proc = run_script("bench", "--quick", "--only", "latency", "--rounds", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(latency)" in proc.stdout
    assert "(concurrency)" not in proc.stdout
    assert "info     project modules a plain commit loads: " in proc.stdout  # hot_imports.py
    assert "heavy modules a plain commit imports (hot_imports.py): " in proc.stdout
