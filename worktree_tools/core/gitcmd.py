"""The one way this package runs git: an argument list, never a shell; an explicit environment."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

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


def git(
    args: Sequence[str],
    *,
    cwd: Path | str,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    check: bool = True,
) -> GitResult:
    """Run `git ARGS` in `cwd`; raise GitError on a non-zero exit unless `check` is false."""
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        input=input,
        capture_output=True,
        check=False,
    )
    result = GitResult(proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise GitError(list(args), proc.returncode, result.err or result.out)
    return result


def nul_join(paths: Sequence[str]) -> bytes:
    """Paths as a NUL-terminated list for `--pathspec-from-file=- --pathspec-file-nul`."""
    return b"".join(os.fsencode(p) + b"\0" for p in paths)
