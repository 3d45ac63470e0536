"""Stale-lock removal judges and removes the same file (review finding: a TOCTOU window)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from worktree_tools import gitlocks


def _stale(path: Path) -> None:
    path.write_bytes(b"")
    old = time.time() - 60
    os.utime(path, (old, old))


def test_a_stale_lock_is_removed_and_reported(tmp_path: Path) -> None:
    lock = tmp_path / "index.lock"
    _stale(lock)
    seen: list[dict[str, Any]] = []
    assert gitlocks.remove_if_stale(lock, [tmp_path / "elsewhere"], seen.append)
    assert not lock.exists() and len(seen) == 1


def test_a_lock_replaced_after_judgement_survives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the judgement and the removal another process removes the stale lock and takes
    a fresh one (git add): the fresh lock must survive."""
    lock = tmp_path / "index.lock"
    _stale(lock)
    judge = gitlocks.holders

    def judge_then_race(path: Path, dirs: list[Path]) -> tuple[bool, str]:
        verdict = judge(path, dirs)
        path.unlink()
        path.write_bytes(b"fresh lock of a live git add")
        return verdict

    monkeypatch.setattr(gitlocks, "holders", judge_then_race)
    seen: list[dict[str, Any]] = []
    assert not gitlocks.remove_if_stale(lock, [tmp_path / "elsewhere"], seen.append)
    assert lock.read_bytes() == b"fresh lock of a live git add"
    assert seen == [] and sorted(p.name for p in tmp_path.iterdir()) == ["index.lock"]
