"""Who is acting: --agent, else $WT_AGENT, else the worktree's recorded owner, else user@host."""

from __future__ import annotations

import os

from worktree_tools.core.errors import CorruptState, InvalidInput
from worktree_tools.core.procs import HOST
from worktree_tools.core.statefiles import OWNER_FILE as OWNER_FILE

TYPE_CHECKING = False
if TYPE_CHECKING:
    StrPath = str | os.PathLike[str]

# Safe as one ref component and one path component: no slashes, no "..", no leading dot/dash.
# The regular expression `[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}`, checked with str methods (`re`
# costs the commit hot path ~6 ms of start-up).
_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_REST = _FIRST | frozenset(".@-")
_FALLBACK_CHARS = _FIRST | frozenset(".-")


def valid_name(name: str) -> bool:
    return (
        0 < len(name) <= 64
        and name[0] in _FIRST
        and all(c in _REST for c in name)
        and ".." not in name
        and not name.endswith((".lock", "."))
    )


def check_name(name: str, what: str = "agent name") -> str:
    if not valid_name(name):
        raise InvalidInput(
            f"invalid {what} {name!r}: use 1-64 letters, digits, '.', '_', '-' or '@', "
            "starting with a letter, digit or '_' (it becomes a ref and a directory name)"
        )
    return name


def recorded_owner(gitdir: StrPath) -> str | None:
    """The owner `git wt alloc` recorded for this worktree; None when there is no record;
    CorruptState when there is one that is not a valid agent name in UTF-8 (it is not taken as
    absent: the agent would silently become someone else)."""
    path = os.path.join(gitdir, OWNER_FILE)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
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


def _corrupt_owner(path: str, why: str) -> CorruptState:
    import shlex

    quoted = shlex.quote(path)
    return CorruptState(
        path,
        why,
        fix=f"git wt alloc AGENT (from the main worktree) writes it again; or name the agent "
        f"with --agent NAME and remove the file: rm {quoted}",
    )


def fallback() -> str:
    try:
        user = login_name()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    name = _safe(user) + "@" + _safe(HOST)
    return name[:64]


def login_name() -> str:
    """`getpass.getuser()` without importing getpass (it imports contextlib and warnings, on the
    commit hot path): $LOGNAME, $USER, $LNAME or $USERNAME, else the password database's name of
    this uid (KeyError when it has none)."""
    for key in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        user = os.environ.get(key)
        if user:
            return user
    import pwd

    return pwd.getpwuid(os.getuid())[0]


def _safe(text: str) -> str:
    """`text` with each character outside `[A-Za-z0-9_.-]` replaced by `_`."""
    return "".join(c if c in _FALLBACK_CHARS else "_" for c in text)


def resolve(explicit: str | None, gitdir: StrPath | None) -> tuple[str, str]:
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
