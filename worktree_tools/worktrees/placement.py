"""Where agents' worktrees live: beside the main worktree, never inside a `.git` directory.

Many tools skip every path that contains `/.git/` (jest-haste-map and Metro find no tests there,
file watchers and search tools ignore it), so a worktree inside the git dir is not a place where
the project's own tools work. The default is the sibling directory `../REPO.worktrees/AGENT`,
which also keeps the main worktree's tools from crawling the agents' copies.
"""

from __future__ import annotations

import os
from pathlib import Path

from worktree_tools.core import statefiles
from worktree_tools.core.errors import InvalidInput

CONFIG_KEY = "wt.worktreeDir"
# Before issue 16, relative to the common git dir; still honoured.
OLD_DEFAULT = f"{statefiles.STATE_DIR}/{statefiles.OLD_TREES}"


def main_dir(commondir: Path) -> Path:
    """The main worktree (or, for a bare repository, the git dir itself)."""
    return commondir.parent if commondir.name == ".git" else commondir


def default_dir(commondir: Path) -> Path:
    """`<parent>/<repo>.worktrees`: beside the main worktree, outside it and the git dir."""
    main = main_dir(commondir)
    name = main.name.removesuffix(".git") if main == commondir else main.name
    return main.parent / f"{name or 'repo'}.worktrees"


def resolve(commondir: Path, configured: str | None) -> Path:
    """Where new worktrees go: `wt.worktreeDir` (relative to the main worktree, or absolute),
    else the default. A location inside a `.git` directory is refused with the reason."""
    if not configured:
        return default_dir(commondir)
    path = Path(os.path.expanduser(configured))
    if not path.is_absolute():
        path = main_dir(commondir) / path
    path = Path(os.path.normpath(path))
    why = inside_git_dir(path, commondir)
    if why is not None:
        raise InvalidInput(
            f"{CONFIG_KEY} = {configured!r} puts worktrees {why}; tools such as Jest, Metro, "
            "file watchers and search tools skip every path inside a .git directory, so they "
            "would find nothing there; nothing was changed",
            fix=f"git config --unset {CONFIG_KEY} (default: {default_dir(commondir)})",
            worktree_dir=os.fspath(path),
        )
    return path


def inside_git_dir(path: Path, commondir: Path) -> str | None:
    """Why `path` is inside a git directory ("inside /r/.git"), or None when it is not."""
    parts = Path(os.path.normpath(path)).parts
    if ".git" in parts:
        return f"inside {Path(*parts[: parts.index('.git') + 1])}"
    real = os.path.realpath(path)
    common = os.path.realpath(commondir)
    if real == common or real.startswith(common.rstrip(os.sep) + os.sep):
        return f"inside the git directory {common}"
    return None
