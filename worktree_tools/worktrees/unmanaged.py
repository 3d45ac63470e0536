"""Worktrees git wt did not create, seen as ownerless records so that `gc --include-unmanaged`
can collect them with the same care (rescue first, branch kept unless integrated)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from worktree_tools.core.procs import HOST
from worktree_tools.worktrees import gitinfo, records
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.records import Owner, Record, RecordState


def unmanaged_records(repo: Repo, managed_paths: set[str]) -> list[tuple[Record, str | None]]:
    """(synthetic record, lock reason or None) for each linked worktree without a record.
    A worktree someone locked is returned with its reason, to be kept."""
    with repo.admin_lock():
        listed = gitinfo.worktree_list(repo.wt)
    known = {os.path.normpath(p) for p in managed_paths}
    head = (repo.commondir / "HEAD").read_text(encoding="utf-8").strip()
    base = head[5:].strip().removeprefix("refs/heads/") if head.startswith("ref: ") else head
    base_oid = gitinfo.rev(repo.wt, base) or ""
    out: list[tuple[Record, str | None]] = []
    used: set[str] = set()
    for entry in listed[1:]:  # the first is the main worktree
        path = os.path.normpath(entry.path)
        if entry.bare or path in known or not os.path.isdir(path):
            continue  # missing directories are git's to prune
        admin = gitinfo.admin_dir_of(Path(path))
        if admin is None:
            continue
        name = _name(Path(path).name, used)
        stamp = records.now_iso()
        rec = Record(
            agent=name,
            path=path,
            admin_dir=os.fspath(admin),
            branch=entry.branch or "",
            base=base,
            base_oid=base_oid,
            owner=Owner(0, None, HOST),
            created=stamp,
            heartbeat=stamp,
            ttl=1.0,
            state=RecordState.DONE,
        )
        out.append((rec, entry.locked))
    return out


def _name(basename: str, used: set[str]) -> str:
    stem = "unmanaged-" + (re.sub(r"[^A-Za-z0-9_.@-]", "_", basename).strip(".") or "wt")
    stem = stem[:56]
    name, n = stem, 1
    while name in used or name.endswith(".lock"):
        n += 1
        name = f"{stem}-{n}"
    used.add(name)
    return name
