"""The one way this package runs git: an argument list, never a shell; an explicit environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core.errors import GitError

# `git rev-parse --local-env-vars`: these tie a process to one repository. We strip them before
# running git so an inherited GIT_INDEX_FILE (say, from inside a hook) never redirects our writes.
# GIT_CONFIG_PARAMETERS stays: it is how `git -c k=v wt ...` hands config to us.
LOCAL_ENV_VARS = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_OBJECT_DIRECTORY",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_GRAFT_FILE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR",
)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current environment minus git's repository-local variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in LOCAL_ENV_VARS}
    if extra:
        env.update(extra)
    return env


@dataclass(frozen=True)
class GitResult:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "surrogateescape")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def tied(argv: list[str]) -> tuple[list[str], Callable[[], None] | None]:
    """(argv, preexec_fn) that make the child die with us (Linux PR_SET_PDEATHSIG): a wt-commit
    killed with SIGKILL runs no cleanup and must not leave a git it started working on.

    `setpriv --pdeathsig` (util-linux) when it exists: the child is then spawned without forking
    this Python process, which costs far less than a `preexec_fn` (a full fork). Else prctl in a
    preexec_fn; elsewhere (not Linux) nothing."""
    global _SETPRIV
    if _SETPRIV is None:
        import shutil

        _SETPRIV = shutil.which("setpriv") or "" if sys.platform == "linux" else ""
    if _SETPRIV:
        return [_SETPRIV, "--pdeathsig", "KILL", "--", *argv], None
    if sys.platform != "linux":
        return argv, None
    import ctypes  # only here: ~5 ms

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def child() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # we died before prctl took effect
            os._exit(1)

    return argv, child


_PR_SET_PDEATHSIG = 1
_SETPRIV: str | None = None


def popen(
    args: Sequence[str],
    *,
    cwd: Path | str,
    env: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> subprocess.Popen[bytes]:
    """Start `git ARGS` tied to this process (it dies with us); the caller waits for it."""
    argv, preexec = tied(["git", *args])
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env=env if env is not None else clean_env(),
        preexec_fn=preexec,
        **kwargs,
    )


def git(
    args: Sequence[str],
    *,
    cwd: Path | str,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    check: bool = True,
) -> GitResult:
    """Run `git ARGS` in `cwd`; raise GitError on a non-zero exit unless `check` is false."""
    with popen(
        args,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        stdout, stderr = proc.communicate(input)
    result = GitResult(proc.returncode, stdout, stderr)
    if check and proc.returncode != 0:
        raise GitError(list(args), proc.returncode, result.err or result.out)
    return result


def nul_join(paths: Sequence[str]) -> bytes:
    """Paths as a NUL-terminated list for `--pathspec-from-file=- --pathspec-file-nul`."""
    return b"".join(os.fsencode(p) + b"\0" for p in paths)
