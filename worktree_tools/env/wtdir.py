"""What git wt tells the tools of one worktree and remembers about its environment.

`<worktree>/.wt/` holds the `env` file of slots to source and `setup.log`; it is made only when
there is something to put there, and git ignores it through its own `.gitignore` (`*`), so it
never shows as work. The memo of what was done (`wt-env.json`: include done, setup status, torn
down) lives in the worktree's private git dir, invisible to the project and kept by `move` and
`adopt`."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from worktree_tools.core import atomic
from worktree_tools.core.statefiles import ENV_STATE as STATE_FILE
from worktree_tools.core.statefiles import WT_DIR as WT_DIR
from worktree_tools.core.statefiles import WT_ENV as ENV_FILE
from worktree_tools.worktrees.records import atomic_write_json


def ensure(tree: Path) -> Path:
    """`.wt/` with its `.gitignore`; refuses to write through a link."""
    d = tree / WT_DIR
    if d.is_symlink():
        raise OSError(f"{d} is a symbolic link; git wt does not write through it")
    d.mkdir(exist_ok=True)
    ignore = d / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# git wt: this directory is local to the worktree\n*\n")
    return d


def env_name(slot: str) -> str:
    """`web` -> `WT_PORT_WEB`."""
    return "WT_PORT_" + re.sub(r"[^A-Z0-9]", "_", slot.upper())


def env_vars(agent: str, tree: Path, slots: dict[str, int]) -> dict[str, str]:
    out = {"WT_AGENT": agent, "WT_WORKTREE": os.fspath(tree)}
    for name, number in sorted(slots.items()):
        out[env_name(name)] = str(number)
    return out


def write_env(tree: Path, agent: str, slots: dict[str, int]) -> Path:
    """`.wt/env`: `KEY=value` lines a shell can source (values are shell-quoted)."""
    d = ensure(tree)
    lines = [f"{k}={_quote(v)}\n" for k, v in env_vars(agent, tree, slots).items()]
    target = d / ENV_FILE
    atomic.write_text(target, "".join(lines), durable=True)
    return target


def _quote(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:@%+-]+", value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


@dataclass(frozen=True)
class State:
    """What git wt last did to this worktree's environment."""

    included: bool = False  # .worktreeinclude was brought in
    setup: str | None = None  # a RunStatus value, or "pending" while it runs
    torn_down: bool = False

    @classmethod
    def parse(cls, data: Any) -> State:
        if not isinstance(data, dict):
            return cls()
        setup = data.get("setup")
        return cls(
            included=data.get("included") is True,
            setup=setup if isinstance(setup, str) else None,
            torn_down=data.get("torn_down") is True,
        )


def load_state(admin: Path) -> State:
    """Unreadable or foreign content reads as "nothing done yet" (it is only a memo)."""
    try:
        return State.parse(json.loads((admin / STATE_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return State()


def update(admin: Path, **changes: Any) -> State:
    state = replace(load_state(admin), **changes)
    atomic_write_json(admin / STATE_FILE, dict(state.__dict__))
    return state
