"""The disk part of `git wt watch`: the agents' worktrees over `wt.gc.maxDisk`, each one's use
measured without following links, at most once per `wt.disk.cacheTtl` (read-only: the shared
cache is read, never written, by a watcher)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from worktree_tools.core.gitcmd import git
from worktree_tools.core.repo import Worktree


@dataclass
class DiskTracker:
    wt: Worktree
    _memo: dict[str, Any] = field(default_factory=dict)
    _at: float = 0.0

    def _config(self, key: str) -> str | None:
        res = git(["config", "--get", key], cwd=self.wt.toplevel, env=self.wt.env(), check=False)
        return res.out.strip() if res.returncode == 0 else None

    def over_budget(self) -> tuple[int, int, list[dict[str, Any]]] | None:
        """(total bytes, budget, per worktree) when over `wt.gc.maxDisk`, else None."""
        from worktree_tools.env import disk
        from worktree_tools.worktrees import records

        raw = self._config("wt.gc.maxDisk")
        if not raw:
            return None
        budget = disk.parse_size(raw, "wt.gc.maxDisk")
        ttl = disk.ttl_of(self._config("wt.disk.cacheTtl"))
        recs, _ = records.load_all(self.wt.state_dir)
        now = time.monotonic()
        if not self._memo or now - self._at >= ttl:
            self._memo = dict(
                disk.usage(self.wt.state_dir, [r.path for r in recs], ttl, write=False)
            )
            self._at = now
        rows = [
            {"agent": r.agent, "worktree": r.path, "state": r.state.value,
             "disk_bytes": self._memo[r.path].bytes}
            for r in recs
            if r.path in self._memo
        ]  # fmt: skip
        total = sum(int(row["disk_bytes"]) for row in rows)
        if total <= budget:
            return None
        return total, budget, sorted(rows, key=lambda row: -int(row["disk_bytes"]))
