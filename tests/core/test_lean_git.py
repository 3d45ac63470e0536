"""The git runner and the modules that run a plain wt-commit's git processes import nothing
heavy at import time (issue 17), subprocess included: each alone in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .test_lean_imports import HEAVY

LEAN = (
    "core.gitcmd", "core.spawn", "core.catfile", "core.refs", "core.permit", "core.treeedit",
    "core.commits", "commit.blobs",
)  # fmt: skip


@pytest.mark.parametrize("name", LEAN)
def test_a_git_running_module_imports_nothing_heavy(name: str) -> None:
    code = (
        f"import sys\nimport worktree_tools.{name}\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == []
