"""Building a commit from the named paths, with git plumbing only.

The private index is HEAD's tree plus the named paths staged by `git add -A` (git's own
filters, modes and ignore rules); the commit object is made by `git commit-tree` (identity,
dates, encoding and signing as git does them).
"""

from __future__ import annotations

import os
from pathlib import Path

from worktree_tools.commit import paths
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.gitcmd import nul_join
from worktree_tools.core.repo import Worktree


def read_config(wt: Worktree) -> dict[str, str]:
    res = wt.git(
        [
            "config",
            "-z",
            "--get-regexp",
            r"^(commit\.cleanup|commit\.gpgsign|core\.commentchar|wt\.hooks)$",
        ],
        check=False,
    )
    out: dict[str, str] = {}
    for item in res.out.split("\0"):
        if "\n" in item:
            key, value = item.split("\n", 1)
            out[key.lower()] = value
    return out


def truthy(value: str) -> bool:
    return value.strip().lower() in ("true", "yes", "on", "1")


def stage_paths(wt: Worktree, priv: Path, tip: str | None, rels: list[str]) -> None:
    """Private index = HEAD's tree + the named paths as they are on disk."""
    wt.git(["read-tree", tip] if tip else ["read-tree", "--empty"], index=priv)
    on_disk = [r for r in rels if r == "." or paths.exists(wt.toplevel, r)]
    missing = [r for r in rels if r not in on_disk]
    in_head = tracked(wt, priv, missing)
    if missing:
        in_index = tracked(wt, wt.index_path, [m for m in missing if m not in in_head])
        unknown = [m for m in missing if m not in in_head and m not in in_index]
        if unknown:
            raise InvalidInput(
                "path neither exists nor is tracked: " + ", ".join(repr(u) for u in unknown)
            )
    to_add = on_disk + [m for m in missing if m in in_head]
    if not to_add:
        return
    res = wt.git(
        ["add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul"],
        index=priv,
        input=nul_join(to_add),
        literal=True,
        check=False,
    )
    if res.returncode != 0:
        from worktree_tools.guard.suggest import without_hints

        raise InvalidInput(f"git refused the paths: {without_hints(res.err)}")


def tracked(wt: Worktree, index: Path, rels: list[str]) -> set[str]:
    """Which of `rels` match at least one entry of `index` (a directory matches its files)."""
    if not rels or not index.exists():
        return set()
    # ls-files has no --pathspec-from-file in git 2.39; literal pathspecs after "--" instead.
    res = wt.git(["ls-files", "-z", "--cached", "--", *rels], index=index, literal=True)
    entries = [os.fsdecode(e) for e in res.stdout.split(b"\0") if e]
    found: set[str] = set()
    for rel in rels:
        prefix = rel + "/"
        if any(e == rel or e.startswith(prefix) for e in entries):
            found.add(rel)
    return found
