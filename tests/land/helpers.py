"""Shared helpers of the land tests: agents with committed work, the CLI as JSON."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from conftest import GIT_WT, git, git_wt, write

# The check used by most tests: records the tree it was run on and the tree of the files it
# saw (they must be the same), then succeeds unless the tree holds a file named FAIL.
CHECK = (
    "tree=$(git add -A >/dev/null && git write-tree); "
    'echo "$WT_LAND_TREE $tree" >> "$LAND_CHECK_LOG"; test ! -e FAIL'
)


def land(
    cwd: Path, *args: str, expect: int | None = 0, env: dict[str, str] | None = None
) -> dict[str, Any]:
    res = git_wt(cwd, "land", *args, "--json", env=env)
    if expect is not None:
        assert res.returncode == expect, (args, res.returncode, res.stdout, res.stderr)
    data: dict[str, Any] = json.loads(res.stdout) if res.stdout.strip() else {}
    data["_stderr"] = res.stderr
    data["_rc"] = res.returncode
    return data


def spawn_land(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [GIT_WT, "land", *args, "--json"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def agent(repo: Path, name: str, files: dict[str, str], message: str | None = None) -> Path:
    """AGENT's worktree (allocated from main) with one commit of `files`."""
    res = git_wt(repo, "alloc", name, "--owner-pid", "0")
    assert res.returncode == 0, res.stderr
    tree = Path(res.stdout.strip())
    commit(tree, files, message or f"{name}: work")
    return tree


def commit(tree: Path, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        write(tree, rel, text)
    git(tree, "add", "--", *files)
    git(tree, "commit", "-qm", message)
    return git(tree, "rev-parse", "HEAD").strip()


def checked_trees(log: Path) -> list[str]:
    """Trees the check ran on; asserts the files it saw were exactly that tree."""
    out = []
    for line in log.read_text().splitlines() if log.exists() else []:
        given, seen = line.split()
        assert given == seen, line
        out.append(given)
    return out


def subjects(repo: Path, rev: str = "main") -> list[str]:
    return git(repo, "log", "--format=%s", rev).splitlines()


def handoff(repo: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (repo / ".git" / "wt" / "worktrees" / name / "handoff.json").read_text()
    )
    return data
