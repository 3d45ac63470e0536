"""The core modules a plain wt-commit loads import nothing heavy at import time (issue 17):
each is imported alone in a fresh interpreter, which must not have loaded any of HEAVY."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = (
    "typing", "dataclasses", "pathlib", "enum", "re", "json", "subprocess", "shlex",
    "contextlib", "functools", "collections", "datetime", "signal", "inspect", "threading",
    "locale", "tempfile", "shutil", "urllib", "ipaddress", "ast", "tokenize", "selectors",
    "click", "filelock", "pygit2", "psutil", "hashlib", "ctypes", "weakref",
)  # fmt: skip

LEAN = (
    "locks", "gitlocks", "events", "fields", "times", "atomic", "procs", "agent", "faults",
    "notices", "scratch", "statefiles", "errors", "enums", "jsonline",
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
