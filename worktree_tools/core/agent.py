"""Who is acting: --agent, else $WT_AGENT, else the worktree's recorded owner, else user@host."""

from __future__ import annotations

import os
import re
from pathlib import Path

from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.procs import HOST

# Safe as one ref component and one path component: no slashes, no "..", no leading dot/dash.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$")
OWNER_FILE = "wt-owner"


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name)) and ".." not in name and not name.endswith((".lock", "."))


def check_name(name: str, what: str = "agent name") -> str:
    if not valid_name(name):
        raise InvalidInput(
            f"invalid {what} {name!r}: use 1-64 letters, digits, '.', '_', '-' or '@', "
            "starting with a letter, digit or '_' (it becomes a ref and a directory name)"
        )
    return name


def recorded_owner(gitdir: Path) -> str | None:
    """The owner `git wt alloc` recorded for this worktree, if any."""
    try:
        name = (gitdir / OWNER_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name if valid_name(name) else None


def fallback() -> str:
    import getpass

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{user}") + "@" + re.sub(r"[^A-Za-z0-9_.-]", "_", HOST)
    return name[:64]


def resolve(explicit: str | None, gitdir: Path | None) -> tuple[str, str]:
    """(name, source) where source is one of option, env, owner, fallback."""
    if explicit:
        return check_name(explicit), "option"
    env = os.environ.get("WT_AGENT")
    if env:
        return check_name(env, "WT_AGENT"), "env"
    if gitdir is not None:
        owner = recorded_owner(gitdir)
        if owner:
            return owner, "owner"
    return fallback(), "fallback"
