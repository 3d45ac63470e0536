"""Throwaway repositories for scripts/bench and scripts/demo.

A pinned git environment (its own HOME, no system config, no inherited GIT_* or WT_*), one git
helper that raises on failure, and the tools of the running venv.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

BIN = Path(sys.executable).parent
PYTHON = sys.executable
WT_COMMIT = os.fspath(BIN / "wt-commit")
GIT_WT = os.fspath(BIN / "git-wt")

GITCONFIG = """\
[user]
\tname = Scratch Agent
\temail = agent@example.com
[init]
\tdefaultBranch = main
[advice]
\tdetachedHead = false
[commit]
\tgpgSign = false
[gc]
\tauto = 0
"""


class GitError(Exception):
    """A git command failed; the message shows the command and its output."""


def hermetic_env(home: Path) -> dict[str, str]:
    """An environment whose git sees only `home`/.gitconfig, with the venv's tools first on PATH."""
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(GITCONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "WT_"))}
    env.update(
        HOME=os.fspath(home),
        XDG_CONFIG_HOME=os.fspath(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        LC_ALL="C",
    )
    return env


def git(cwd: Path, *args: str, env: Mapping[str, str], check: bool = True) -> str:
    """Run git (argument list, never a shell); return stdout. Raises GitError on failure."""
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=dict(env), capture_output=True, text=True, errors="replace"
    )
    if check and proc.returncode != 0:
        raise GitError(f"git {' '.join(args)} (in {cwd}) exited {proc.returncode}: {proc.stderr}")
    return proc.stdout


def write(root: Path, rel: str, content: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)


def init_repo(path: Path, files: Mapping[str, str], env: Mapping[str, str]) -> Path:
    """A repository on `main` whose first commit holds `files`."""
    path.mkdir(parents=True)
    git(path, "init", "-q", env=env)
    for rel, content in files.items():
        write(path, rel, content)
    git(path, "add", "--", *files, env=env)
    git(path, "commit", "-q", "-m", "initial", env=env)
    return path
