"""Each MCP tool is one toolkit command run with --json: its result is that command's JSON object.

Running the real command (not a re-implementation) keeps one behaviour for the CLI, the hooks
and MCP: the same refusals, exit codes, locks and guard passes. This module has no MCP import,
so it is testable and typed without the optional SDK.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core.errors import InvalidInput, Outcome, exit_code


@dataclass(frozen=True)
class Answer:
    payload: dict[str, Any]
    is_error: bool


def git_wt_argv(*args: str) -> list[str]:
    """`git wt ARGS` in this interpreter (never a PATH lookup of another install)."""
    return [sys.executable, "-m", "worktree_tools", *args]


def run(args: list[str], cwd: Path) -> Answer:
    """Run `git wt ARGS --json` in `cwd`; a non-zero exit is an error answer (its object carries
    `error` and `fix`), except 7 (attention), which is a finding, not a refusal."""
    proc = subprocess.run(
        git_wt_argv(*args), cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        check=False, errors="surrogateescape",
    )  # fmt: skip
    payload = _one_object(proc.stdout)
    if payload is None:
        payload = {
            "schema_version": 1,
            "outcome": Outcome.ERROR.value,
            "error": (proc.stderr.strip() or proc.stdout.strip() or "no output")[-2000:],
            "fix": "run `git wt doctor` in the worktree, then retry",
            "exit_code": proc.returncode or exit_code(Outcome.ERROR),
        }
    if proc.returncode not in (0, exit_code(Outcome.ATTENTION)):
        payload.setdefault("exit_code", proc.returncode)
        payload.setdefault("error", proc.stderr.strip() or None)
        payload.setdefault("fix", None)
        return Answer(payload, True)
    return Answer(payload, False)


def _one_object(stdout: str) -> dict[str, Any] | None:
    text = stdout.strip()
    if not text:
        return None
    try:
        value = json.loads(text.splitlines()[-1] if "\n" in text else text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def workdir(worktree: str | None, default: Path) -> Path:
    """The directory a tool runs in: the named worktree, else where the server started."""
    if worktree is None:
        return default
    path = Path(os.path.expanduser(worktree))
    if not path.is_absolute():
        path = default / path
    if not path.is_dir():
        raise InvalidInput(
            f"worktree {worktree!r} is not a directory", fix="git wt list (the worktree column)"
        )
    return path


def commit_args(paths: list[str], message: str, agent: str | None) -> list[str]:
    """wt-commit of exactly `paths`: never --commit-whole-tree, so '.' is refused as in the CLI."""
    args = ["commit", "--json", "-m", message]
    if agent:
        args += ["--agent", agent]
    return [*args, "--", *paths]


def release_args(
    agent: str,
    state: str,
    note: str | None,
    next_step: str | None,
    blockers: list[str],
    assumptions: list[str],
) -> list[str]:
    args = ["release", agent, "--json", "--state", state]
    if note:
        args += ["--note", note]
    if next_step:
        args += ["--next", next_step]
    for b in blockers:
        args += ["--blocker", b]
    for a in assumptions:
        args += ["--assume", a]
    return args


def optional(flag: str, value: object) -> list[str]:
    return [] if value is None else [flag, str(value)]
