"""The lock-order table is written once in code (core.locks.LOCK_ORDER) and once for readers
(docs/locks.md); they must list the same locks in the same order."""

from __future__ import annotations

import re
from pathlib import Path

from worktree_tools.core import locks

DOC = Path(__file__).resolve().parents[2] / "docs" / "locks.md"


def _doc_rows() -> list[tuple[str, str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| (\d+) \| ([^|]+) \| `([^`]+)` \|", line)
        if m:
            rows.append((m.group(2).strip(), m.group(3)))
    return rows


def test_docs_table_is_the_code_table() -> None:
    assert _doc_rows() == [(spec.name, spec.where) for spec in locks.LOCK_ORDER]


def test_every_lock_file_constant_is_in_the_table() -> None:
    wheres = " ".join(spec.where for spec in locks.LOCK_ORDER)
    for name in (locks.REPO_LOCK, locks.ADMIN_LOCK, locks.WORKTREE_LOCK, locks.HOOK_LOCK,
                 locks.STASH_LOCK, locks.AGENT_LOCKS, locks.INDEX_LOCK, locks.EVENTS_LOCK,
                 locks.TASKS_LOCK):  # fmt: skip
        assert name in wheres, name
