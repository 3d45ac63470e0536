"""Who is acting: --agent, else $WT_AGENT, else the worktree's recorded owner, else user@host."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from worktree_tools.core.errors import CorruptState, InvalidInput
from worktree_tools.core.procs import HOST
from worktree_tools.core.statefiles import OWNER_FILE as OWNER_FILE

# Safe as one ref component and one path component: no slashes, no "..", no leading dot/dash.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$")


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
    """The owner `git wt alloc` recorded for this worktree; None when there is no record;
    CorruptState when there is one that is not a valid agent name in UTF-8 (it is not taken as
    absent: the agent would silently become someone else)."""
    path = gitdir / OWNER_FILE
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise _corrupt_owner(path, exc.strerror or str(exc)) from None
    try:
        name = raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise _corrupt_owner(path, f"not UTF-8 at byte {exc.start}") from None
    if not valid_name(name):
        raise _corrupt_owner(path, f"{name[:80]!r} is not a valid agent name")
    return name


def _corrupt_owner(path: Path, why: str) -> CorruptState:
    quoted = shlex.quote(os.fspath(path))
    return CorruptState(
        os.fspath(path),
        why,
        fix=f"git wt alloc AGENT (from the main worktree) writes it again; or name the agent "
        f"with --agent NAME and remove the file: rm {quoted}",
    )


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
    if explicit is not None:  # an empty --agent '' is refused, never the fallback
        return check_name(explicit), "option"
    env = os.environ.get("WT_AGENT")
    if env:
        return check_name(env, "WT_AGENT"), "env"
    if gitdir is not None:
        owner = recorded_owner(gitdir)
        if owner:
            return owner, "owner"
    return fallback(), "fallback"
