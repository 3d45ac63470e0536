"""Setup and teardown: the `.wtconfig` commands run in a worktree at alloc, and before gc removes
it or at `release --state done`.

They run only when `git wt trust` approved that exact file (see trust.py); otherwise they are
reported, not run. Each command runs with `sh -c` in the worktree with `WT_AGENT`,
`WT_WORKTREE` and one `WT_PORT_<NAME>` per slot set; output goes to `.wt/setup.log`. The first
failing command stops the rest. `wt.env.timeout` (seconds, default 600) bounds each command.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from worktree_tools.core import statefiles
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.gitcmd import clean_env
from worktree_tools.env import trust, wtdir

DEFAULT_TIMEOUT = 600.0
TAIL = 2000  # characters of a failing command's output shown in the report


class Phase(str, Enum):
    SETUP = "setup"
    TEARDOWN = "teardown"


class RunStatus(str, Enum):
    NONE = "none"  # nothing configured
    OK = "ok"
    FAILED = "failed"
    UNTRUSTED = "untrusted"  # configured, not approved on this machine: not run
    SKIPPED = "skipped"  # already done (a teardown at release, before gc)


@dataclass
class RunReport:
    phase: Phase
    status: RunStatus
    commands: list[str] = field(default_factory=list)
    failed_command: str | None = None
    command_exit_code: int | None = None
    output_tail: str | None = None
    log: str | None = None
    trust: str = trust.Trust.NONE.value
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["phase"] = self.phase.value
        data["status"] = self.status.value
        return data

    def message(self) -> str | None:
        """One line for stderr, or None when there is nothing to say."""
        if self.status is RunStatus.UNTRUSTED:
            return (
                f"{self.phase.value} commands of .wtconfig were not run: {self.trust} on this "
                f"machine; a person approves them with: {self.fix}"
            )
        if self.status is RunStatus.FAILED and self.failed_command is None:
            return f"{self.phase.value} could not run: {self.output_tail}"
        if self.status is RunStatus.FAILED:
            return (
                f"{self.phase.value} failed: `{self.failed_command}` exited with "
                f"{self.command_exit_code}; output in {self.log}"
            )
        return None


def run(
    phase: Phase,
    tree: Path,
    commondir: Path,
    env: dict[str, str],
    timeout: float = DEFAULT_TIMEOUT,
) -> RunReport:
    """Run the `phase` commands of `tree`'s `.wtconfig` if approved. Never raises for a failing
    command or an unreadable config: the report says what happened."""
    try:
        cfg = trust.read_config(tree)
        state = trust.status(commondir, cfg)
    except InvalidInput as err:
        return RunReport(phase, RunStatus.FAILED, output_tail=err.message, fix=err.fix)
    commands = list((cfg.setup if phase is Phase.SETUP else cfg.teardown) if cfg else ())
    report = RunReport(phase, RunStatus.NONE, commands=commands, trust=state.value)
    if not commands:
        return report
    if state is not trust.Trust.TRUSTED:
        report.status = RunStatus.UNTRUSTED
        report.fix = f"git -C {tree} wt trust"
        return report
    log = wtdir.ensure(tree) / statefiles.WT_SETUP_LOG
    report.log = os.fspath(log)
    full_env = clean_env(env)
    for command in commands:
        code, output = _one(command, tree, full_env, log, phase, timeout)
        if code != 0:
            report.status = RunStatus.FAILED
            report.failed_command = command
            report.command_exit_code = code
            report.output_tail = output[-TAIL:]
            report.fix = f"fix the command in .wtconfig, then run it by hand in {tree}"
            return report
    report.status = RunStatus.OK
    return report


def _one(
    command: str, tree: Path, env: dict[str, str], log: Path, phase: Phase, timeout: float
) -> tuple[int, str]:
    with open(log, "ab") as out:
        out.write(f"$ {command}   # {phase.value}\n".encode())
        out.flush()
        start = out.tell()
        proc = subprocess.Popen(
            ["sh", "-c", command],
            cwd=tree,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so a timeout kills what it started too
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = 124
            out.write(f"\ngit wt: killed after {timeout:.0f}s (wt.env.timeout)\n".encode())
    with open(log, "rb") as back:
        back.seek(start)
        output = back.read().decode("utf-8", "replace")
    return code, output


def timeout_of(raw: str | None) -> float:
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value <= 0:
        raise InvalidInput(
            f"wt.env.timeout must be a positive number of seconds, not {raw!r}",
            fix=f"git config wt.env.timeout {DEFAULT_TIMEOUT:.0f}",
        )
    return value
