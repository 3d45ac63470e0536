"""Outcomes, their stable exit codes, and the typed errors that carry them.

Core code raises these; `cli.py` is the one place that turns them into an exit code, a message
and a JSON object. Agents branch on the exit codes, so they never change.
"""

from __future__ import annotations

from worktree_tools.core.enums import Word

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar


class Outcome(Word):
    COMMITTED = "committed"
    UNCHANGED = "unchanged"
    OK = "ok"
    ERROR = "error"
    INVALID = "invalid"
    LOCK_TIMEOUT = "lock_timeout"
    CONFLICT = "conflict"
    HOOK_FAILED = "hook_failed"
    REJECTED = "rejected"
    ATTENTION = "attention"
    # `git wt land`
    LANDED = "landed"
    CHECK_FAILED = "check_failed"
    QUEUED = "queued"
    CANCELLED = "cancelled"


EXIT_CODES: dict[Outcome, int] = {
    Outcome.COMMITTED: 0,
    Outcome.UNCHANGED: 0,
    Outcome.OK: 0,
    Outcome.ERROR: 1,
    Outcome.INVALID: 2,
    Outcome.LOCK_TIMEOUT: 3,
    Outcome.CONFLICT: 4,
    Outcome.HOOK_FAILED: 5,
    Outcome.REJECTED: 6,
    Outcome.ATTENTION: 7,
    Outcome.LANDED: 0,
    Outcome.QUEUED: 0,
    Outcome.CANCELLED: 0,
    Outcome.CHECK_FAILED: 5,  # a check is a hook of the queue: the hook_failed code
}


# What each code means, one line each: the one exit-code table (docs/exit-codes.md shows it in
# full; every command's --help prints the lines of the codes it can return).
MEANINGS: dict[int, str] = {
    0: "done, or nothing to do (unchanged: a retry found the work already done)",
    1: "an unexpected failure (a bug, a full disk, the environment); the message says what",
    2: "bad input or usage; nothing was changed; the message names the command to run instead",
    3: "a lock stayed held past --lock-timeout / WT_LOCK_TIMEOUT; the message names the holder",
    4: "someone else changed the same thing first; nothing was changed",
    5: "a hook or check refused it; nothing was committed",
    6: "git, the server or a policy refused it",
    7: "it did what it could, and something needs a person",
}


def exit_code(outcome: Outcome) -> int:
    return EXIT_CODES[outcome]


def exit_code_of(value: object) -> int:
    """The exit code of an outcome given as its JSON string; 0 for anything that names no
    failure (a command's own success states such as `landed` or `queued`)."""
    try:
        return EXIT_CODES[Outcome(value)]
    except ValueError:
        return 0


class WtError(Exception):
    """Base of every error the tool reports; `fix` names the command that repairs it."""

    outcome: ClassVar[Outcome] = Outcome.ERROR

    def __init__(self, message: str, *, fix: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.details: dict[str, Any] = dict(details)


class InvalidInput(WtError):
    """Bad input: nothing was changed."""

    outcome = Outcome.INVALID


class CorruptState(InvalidInput):
    """A state file or ref that cannot be read as what it should be. It is reported (path and
    the command that repairs it), never taken as absent and never overwritten."""

    def __init__(self, path: str, why: str, *, fix: str | None = None, **details: Any) -> None:
        super().__init__(
            f"{path} is corrupt ({why}); nothing was changed",
            fix=fix
            or f"inspect it, then repair or move it away: mv {_q(path)} {_q(path + '.corrupt')}",
            **{"path": path, **details},
        )
        self.path = path
        self.why = why


def _q(path: str) -> str:
    import shlex

    return shlex.quote(path)


class PathRefused(InvalidInput):
    """A path that wt-commit will not commit."""


class LockTimeout(WtError):
    outcome = Outcome.LOCK_TIMEOUT


class RefMoved(WtError):
    """The branch moved under us and the change cannot be replayed safely."""

    outcome = Outcome.CONFLICT


class HookFailed(WtError):
    outcome = Outcome.HOOK_FAILED


class Rejected(WtError):
    """Git or a policy refused the change (signing failed, a ref update was refused...)."""

    outcome = Outcome.REJECTED


class GitError(WtError):
    """A git command failed unexpectedly."""

    def __init__(self, args: list[str], returncode: int, output: str) -> None:
        shown = " ".join(args)
        super().__init__(
            f"`git {shown}` failed with exit code {returncode}: {output.strip()}",
            command=["git", *args],
            returncode=returncode,
        )
        self.args_list = args
        self.returncode = returncode
        self.output = output


class JournalViolation(Rejected):
    """A change breaks the append-only journal rules (exit code of `rejected`)."""
