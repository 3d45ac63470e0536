"""How worktree-tools proves a ref move is its own: a one-time pass, not an environment variable.

While wt-commit (or land, sync, a hook checkout) moves a ref, it holds a pass file named for its
own pid that records its start time. The reference-transaction shim lets the transaction through
only when the git process running it is a direct child of that pid and the pid's start time is
the recorded one. Nothing is inherited: an agent's shell, a hook that wt-commit runs, or a reused
pid has a different parent or start time, and the file is gone once the move is done.

This module is on wt-commit's hot path: os only, no psutil.
"""

from __future__ import annotations

import os

from worktree_tools.core import atomic
from worktree_tools.core.statefiles import GUARD_PASSES as PASS_DIR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType

    from worktree_tools.core.repo import Worktree

PASS_PREFIX = "pass-"


def pass_path(state_dir: str | os.PathLike[str], pid: int) -> str:
    return os.path.join(state_dir, PASS_DIR, f"{PASS_PREFIX}{pid}")


def _ps(field: str, pid: int) -> str:
    """`ps -o FIELD= -p PID` (where there is no /proc)."""
    import subprocess  # only here: no /proc

    res = subprocess.run(
        ["ps", "-o", f"{field}=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    return res.stdout


def start_token(pid: int) -> str | None:
    """The process's start time as the kernel counts it (field 22 of /proc/PID/stat), or, where
    there is no /proc, `ps -o lstart=`; None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return None
        token = "_".join(_ps("lstart", pid).split())
        return token or None
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
        return int(stat[stat.rfind(")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(_ps("ppid", pid).strip())
    except ValueError:
        return None


class granted:  # lower case: used as the context manager function it was
    """Let the git processes this process starts inside the block move refs past the guard."""

    __slots__ = ("_path", "wt")

    def __init__(self, wt: Worktree) -> None:
        self.wt = wt
        self._path = ""

    def __enter__(self) -> None:
        me = os.getpid()
        token = start_token(me) or "unknown"
        path = self._path = pass_path(self.wt.state_dir_str, me)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # Not durable: a pass is worthless after a crash (its pid is gone).
        atomic.write_text(path, f"{me} {token}\n", durable=False, encoding="ascii")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            os.unlink(self._path)
        except FileNotFoundError:
            return


def _comm(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return None


def holds_pass(state_dir: str | os.PathLike[str], git_pid: int) -> bool:
    """Whether the git process `git_pid` was started by a live pass holder, directly or through
    one git process (`git worktree add` runs `git update-ref` itself)."""
    owner = parent_of(git_pid)
    if owner is None or owner <= 1:
        return False
    if _valid(state_dir, owner):
        return True
    if _comm(owner) != "git":
        return False
    grand = parent_of(owner)
    return grand is not None and grand > 1 and _valid(state_dir, grand)


def _valid(state_dir: str | os.PathLike[str], owner: int) -> bool:
    try:
        with open(pass_path(state_dir, owner), encoding="ascii") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return False
    parts = text.split()
    if len(parts) != 2 or parts[0] != str(owner) or parts[1] == "unknown":
        return False
    return start_token(owner) == parts[1]
