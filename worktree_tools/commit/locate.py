"""Where a commit happens: the worktree around a directory and the configuration wt-commit
reads there, with one `git config` in every case and no `git rev-parse` where the case is plain
(core/discovery).
"""

from __future__ import annotations

import os

from worktree_tools.commit.build import Config, PendingConfig
from worktree_tools.core import discovery
from worktree_tools.core.repo import Worktree, discover


def locate_plain(
    cwd: str | os.PathLike[str], pending: PendingConfig | None = None
) -> tuple[Worktree, Config] | None:
    """The worktree around `cwd` and the configuration wt-commit reads there, found without
    `git rev-parse` (core/discovery) and confirmed by the one `git config` (`pending`, else
    started here), which git runs from `cwd` as for `git commit` (so `includeIf "gitdir:..."`
    sees what git sees); None when git must decide."""
    found = discovery.guess(cwd)
    if found is None:
        return None
    config = (pending if pending is not None else PendingConfig(cwd)).read()
    if not config.succeeded:
        return None
    wt = discovery.settle(found, config, config.valueless)
    return None if wt is None else (wt, config)


def locate(cwd: str | os.PathLike[str]) -> tuple[Worktree, Config]:
    """The worktree around `cwd` and its configuration: as locate_plain finds them, else as
    `git rev-parse` finds it, with the same one `git config` (started first: git reads it
    while the worktree is looked for)."""
    pending = PendingConfig(cwd)
    try:
        plain = locate_plain(cwd, pending)
        if plain is not None:
            return plain
        wt = discover(cwd)
    finally:
        config = pending.read()  # reaped, whatever happened (read once)
    return wt, config
