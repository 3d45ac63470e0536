"""Shared helpers of the task tests: the CLI as agents run it, and a board seeded in one commit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import git_wt

DRIVER = os.fspath(Path(__file__).with_name("driver.py"))


def task(cwd: Path, *args: str, agent: str | None = "a1") -> dict[str, Any]:
    """`git wt task ARGS --json` (as AGENT); the JSON object plus `exit`."""
    who = ("--agent", agent) if agent else ()
    proc = git_wt(cwd, "task", *args, *who, "--json")
    try:
        data: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"not one JSON object: {proc.stdout!r} {proc.stderr!r}") from None
    data["exit"] = proc.returncode
    data["stderr"] = proc.stderr
    return data


def seed(cwd: Path, count: int, *, prefix: str = "T", priority: int = 2) -> list[str]:
    """COUNT tasks added in one commit (through the same core function as `task add`)."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from worktree_tools.core.repo import discover\n"
        "from worktree_tools.tasks.edits import NewTask, add\n"
        "from worktree_tools.tasks.engine import Ctx\n"
        "from worktree_tools.tasks.store import open_store\n"
        "wt = discover(Path.cwd())\n"
        "n, prefix, prio = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])\n"
        "specs = [NewTask(f'task {i}', f'{prefix}{i:04d}', prio) for i in range(n)]\n"
        "add(Ctx(open_store(wt, 'seeder'), 'seeder', time.monotonic() + 60), specs)\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(count), prefix, str(priority)],
        cwd=cwd,
        check=True,
        capture_output=True,
    )
    return [f"{prefix}{i:04d}" for i in range(count)]


def spawn_agent(cwd: Path, agent: str, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.Popen(
        [sys.executable, DRIVER, "--agent", agent, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def board_file(cwd: Path, task_id: str, branch: str = "wt/tasks") -> str:
    proc = subprocess.run(
        ["git", "show", f"{branch}:tasks/{task_id}.md"], cwd=cwd, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def events(repo: Path) -> list[dict[str, Any]]:
    path = repo / ".git" / "wt" / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
