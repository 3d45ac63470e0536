"""The journal benchmark's synthetic history is a valid journal, and both checkers agree."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

import pytest

from worktree_tools.core.errors import JournalViolation
from worktree_tools.journal.verify import verify

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_journal", ROOT / "scripts" / "bench_journal.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_history_verifies_like_the_baseline(tmp_path: Path) -> None:
    bench = _bench()
    made = bench.build_history(tmp_path / "h", commits=400, merges=8)
    result = verify(tmp_path / "h", None, use_checkpoint=False)
    assert (result.commits, result.merges) == (made["commits"], made["merges"])
    assert made["commits"] == 400 and made["merges"] >= 5
    assert result.violations == []
    assert bench.baseline(tmp_path / "h")["problems"] == 0
    # Break one entry in a new commit: both checkers see it.
    repo = tmp_path / "h"
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)
    entry = next((repo / "journal").rglob("*.md"))
    entry.write_bytes(b"rewritten\n")
    subprocess.run(["git", "commit", "-qam", "break"], cwd=repo, check=True)
    assert bench.baseline(repo)["problems"] >= 1
    with pytest.raises(JournalViolation) as info:
        verify(repo, None, use_checkpoint=False)
    assert [v["kind"] for v in info.value.details["violations"]] == ["rewritten"]
