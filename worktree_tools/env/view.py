"""What `list` and `show` add about environments: slots, the env file, disk use."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core import statefiles
from worktree_tools.core.errors import WtError
from worktree_tools.env import disk, slots
from worktree_tools.worktrees import placement
from worktree_tools.worktrees.common import Repo


@dataclass(frozen=True)
class Extras:
    slots: dict[str, dict[str, int]]
    disk: dict[str, disk.Usage]


def _ttl(repo: Repo) -> float:
    return disk.ttl_of(repo.config("wt.disk.cacheTtl"))


def list_extras(repo: Repo, paths: Sequence[str], agents: Sequence[str | None]) -> Extras:
    """Slots per agent, and disk use per linked worktree (not the main worktree: its size,
    git objects included, is not what the agents add)."""
    held: dict[str, dict[str, int]] = {}
    for agent in agents:
        if agent:
            held[agent] = slots_of(repo, agent)
    main = os.path.realpath(placement.main_dir(repo.commondir))
    linked = [p for p in paths if os.path.realpath(p) != main]
    return Extras(held, disk.usage(repo.state_dir, linked, _ttl(repo)))


def slots_of(repo: Repo, agent: str) -> dict[str, int]:
    try:
        return slots.of_agent(repo, agent)
    except WtError:
        return {}  # a corrupt table is reported by `git wt slot`, not by every listing


def env_file(path: str) -> str | None:
    f = Path(path) / statefiles.WT_DIR / statefiles.WT_ENV
    return str(f) if f.is_file() else None


def disk_json(use: disk.Usage | None) -> dict[str, Any]:
    if use is None:
        return {
            "disk_bytes": None,
            "disk_shared_bytes": None,
            "disk_files": None,
            "disk_measured_at": None,
            "disk_measured_epoch": None,
        }
    return use.to_json()


def disk_text(use: disk.Usage) -> str:
    return disk.human(use.bytes)
