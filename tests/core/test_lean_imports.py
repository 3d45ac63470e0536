"""The core modules a plain wt-commit loads import nothing heavy at import time (issue 17):
each is imported alone in a fresh interpreter, which must not have loaded any module of
scripts/hot_imports.py's HEAVY list (tests/commit/test_hot_path.py runs the whole script)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest


def _heavy() -> tuple[str, ...]:
    path = Path(__file__).resolve().parents[2] / "scripts" / "hot_imports.py"
    spec = importlib.util.spec_from_file_location("hot_imports", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    heavy: tuple[str, ...] = module.HEAVY
    return heavy


HEAVY = _heavy()

LEAN = (
    # the state modules
    "locks", "gitlocks", "events", "fields", "times", "atomic", "procs", "agent", "faults",
    "notices", "scratch", "statefiles", "errors", "enums", "jsonline",
    # the git runner and the modules that run a commit's git processes (subprocess included)
    "gitcmd", "spawn", "forkexec", "catfile", "refs", "permit", "treeedit", "commits",
)  # fmt: skip


@pytest.mark.parametrize("name", LEAN)
def test_a_hot_core_module_imports_nothing_heavy(name: str) -> None:
    code = (
        f"import sys\nimport worktree_tools.core.{name}\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == []
