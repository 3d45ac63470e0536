"""Shared helpers for the worktree tests: owner processes, records on disk, tree contents."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import git, git_wt


def spawn_owner() -> subprocess.Popen[bytes]:
    """A live process to stand for an agent (killed with SIGKILL to simulate a crash)."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])


def kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def wt_json(cwd: Path, *args: str, expect: int = 0) -> dict[str, Any]:
    res = git_wt(cwd, *args, "--json")
    assert res.returncode == expect, (args, res.returncode, res.stdout, res.stderr)
    data: dict[str, Any] = json.loads(res.stdout)
    return data


def alloc(repo: Path, agent: str, *args: str, owner: int = 0) -> Path:
    res = git_wt(repo, "alloc", agent, "--owner-pid", str(owner), *args)
    assert res.returncode == 0, res.stderr
    path = Path(res.stdout.strip())
    assert path.is_dir()
    return path


def record_path(repo: Path, agent: str) -> Path:
    return repo / ".git" / "wt" / "worktrees" / agent / "owner.json"


def edit_record(repo: Path, agent: str, **changes: Any) -> None:
    path = record_path(repo, agent)
    data = json.loads(path.read_text())
    for key, value in changes.items():
        if key.startswith("owner_"):
            data["owner"][key[6:]] = value
        else:
            data[key] = value
    path.write_text(json.dumps(data))


def lease_of(repo: Path, agent: str) -> str:
    rows = wt_json(repo, "status", agent)["worktrees"]
    assert len(rows) == 1
    return str(rows[0]["lease"])


def files_of(root: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file under `root` but .git: relative path -> (bytes, executable)."""
    out: dict[str, tuple[bytes, bool]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            if name == ".git":
                continue
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            out[rel] = (full.read_bytes(), os.access(full, os.X_OK))
    return out


def index_state(tree: Path) -> str:
    """What is staged and what is not, as git shows it."""
    return git(tree, "status", "--porcelain=v1", "--untracked-files=all")


def rescues(repo: Path) -> list[dict[str, Any]]:
    return list(wt_json(repo, "rescue", "list")["rescues"])
