"""Moved to `worktree_tools.core.permit` (a ref-move primitive); this name stays for old imports."""

from __future__ import annotations

from worktree_tools.core.permit import PASS_PREFIX, granted, holds_pass, start_token
from worktree_tools.core.statefiles import GUARD_PASSES as PASS_DIR

__all__ = ["PASS_DIR", "PASS_PREFIX", "granted", "holds_pass", "start_token"]
