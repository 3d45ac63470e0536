"""Where the board lives, read as one snapshot and changed by one compare-and-swap.

The board is a branch (default `refs/heads/wt/tasks`) whose tree holds `tasks/ID.md`, plus one
ref per claim, `refs/wt/claims/ID`, pointing at a claim blob. A change writes objects only
(blobs, trees, a commit whose parent is the tip it was decided on: plumbing, no index, no
worktree) and then moves the board and the claim refs it touches together, each from the value
it was read at: core.refs.transaction (one `git update-ref --stdin`: every ref or none) in this
repository, or `git push --atomic --force-with-lease` for each ref on a remote (the server's ref
locks are the only arbiter, so two machines never both win).
"""

from __future__ import annotations

import os

from worktree_tools.core import refs
from worktree_tools.core.errors import InvalidInput, RefMoved, Rejected
from worktree_tools.core.fields import git_bool
from worktree_tools.core.locks import TASKS_LOCK
from worktree_tools.tasks.claims import CLAIM_PREFIX
from worktree_tools.tasks.objects import list_refs, read_tree
from worktree_tools.tasks.values import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    import contextlib
    from typing import Protocol

    from worktree_tools.core.refs import RefUpdate
    from worktree_tools.core.repo import Worktree
    from worktree_tools.tasks.objects import Entry, Listing

DEFAULT_BRANCH = "wt/tasks"
TURN_LOCK = TASKS_LOCK  # agents of this machine take turns (core.locks.LOCK_ORDER)
CACHE_PREFIX = "refs/wt/task-cache/"  # the last board tip seen on each remote (fetch haves)
READ_ATTEMPTS = 5


class Snapshot(Value):
    """The board as read at one moment: what every decision is made on and swapped against."""

    __slots__ = ("blobs", "claims", "files", "root", "tip")

    def __init__(
        self,
        tip: str | None,
        root: tuple[Entry, ...],  # the tip's top-level entries other than tasks/
        files: dict[str, Entry],  # name under tasks/ -> entry
        claims: dict[str, str],  # task id -> claim blob oid
        blobs: dict[str, bytes],  # oid -> content, for task files and claim records
    ) -> None:
        self.tip = tip
        self.root = root
        self.files = files
        self.claims = claims
        self.blobs = blobs


if TYPE_CHECKING:  # a typing.Protocol class costs ~1 ms to create: for mypy only

    class BoardStore(Protocol):
        where: str
        ref: str
        wt: Worktree

        def read(self) -> Snapshot:
            """The board and every claim record now."""

        def swap(self, updates: list[RefUpdate], deadline: float) -> bool:
            """Move every ref from its `old` to its `new`, or none; False when one had moved."""

        def turn(self, deadline: float) -> contextlib.AbstractContextManager[object]:
            """Held around one read-decide-swap round: agents of one machine take turns
            instead of all losing the same swap. Correctness never rests on it (the swap
            decides)."""


def board_ref(branch: str) -> str:
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


def settings(wt: Worktree) -> dict[str, str]:
    """Every `wt.task.*` setting (keys lower-cased, as git reports them), in one git call."""
    res = wt.git(["config", "-z", "--get-regexp", r"^wt\.task\."], check=False)
    out: dict[str, str] = {}
    for item in res.stdout.split(b"\0"):
        key, _, value = item.decode("utf-8", "replace").partition("\n")
        if key and value.strip():
            out[key.lower()] = value.strip()
    return out


def check_branch(wt: Worktree, branch: str) -> str:
    ref = board_ref(branch)
    if branch == DEFAULT_BRANCH:
        return ref
    res = wt.git(["check-ref-format", ref], check=False)
    if res.returncode != 0 or not ref.startswith("refs/heads/"):
        raise InvalidInput(
            f"invalid task board branch {branch!r} (wt.task.branch)",
            fix="git config wt.task.branch wt/tasks",
        )
    return ref


# ---- objects (shared by both stores) -----------------------------------------------------


def load(wt: Worktree, listing: Listing) -> Snapshot:
    """The board named by `listing`: the tip's tree and the blobs of its task files and of
    its claim records (those not already read)."""
    root, files, blobs = read_tree(wt, listing)
    return Snapshot(listing.tip, tuple(root), files, dict(listing.claims), blobs)


def oid_length(snap: Snapshot) -> int | None:
    """The repository's object id length in bytes, when an id of it is at hand."""
    known = snap.tip or next(iter(snap.claims.values()), None)
    return len(known) // 2 if known else None


# ---- this repository ---------------------------------------------------------------------


class LocalStore:
    """The board of this repository, shared by all its worktrees (agents on one machine)."""

    def __init__(self, wt: Worktree, ref: str, agent: str, *, turns: bool = True) -> None:
        self.wt = wt
        self.ref = ref
        self.agent = agent
        self.where = "local"
        self.turns = turns

    def read(self) -> Snapshot:
        return load(self.wt, list_refs(self.wt, self.ref, CLAIM_PREFIX))

    def turn(self, deadline: float) -> contextlib.AbstractContextManager[object]:
        from worktree_tools.core.locks import Holder, RecordedLock

        if not self.turns:
            import contextlib

            return contextlib.nullcontext()
        return RecordedLock(
            os.path.join(self.wt.state_dir_str, TURN_LOCK),
            "task board lock",
            Holder.me(self.agent),
            deadline,
        )

    def swap(self, updates: list[RefUpdate], deadline: float) -> bool:
        self._refuse_if_checked_out()
        try:
            refs.transaction(
                self.wt, updates, refs.reflog("wt task", self.agent), deadline=deadline
            )
        except RefMoved:
            return False  # lost the race: decide again on what is there now
        return True

    def _refuse_if_checked_out(self) -> None:
        """Moving a branch under its own checkout makes that worktree's next commit undo the
        change (R10): the board is changed only while no worktree has it checked out."""
        common = self.wt.commondir_str
        heads = [os.path.join(common, "HEAD")]
        try:
            others = os.listdir(os.path.join(common, "worktrees"))
        except OSError:
            others = []
        heads += [os.path.join(common, "worktrees", name, "HEAD") for name in sorted(others)]
        for head in heads:
            try:
                with open(head, encoding="utf-8") as fh:
                    text = fh.read().strip()
            except (OSError, UnicodeDecodeError):
                continue
            if text == f"ref: {self.ref}":
                where = os.path.dirname(head)
                raise Rejected(
                    f"the task board branch {self.ref} is checked out ({where}); moving it "
                    "would make that worktree undo the change; nothing was changed",
                    fix="switch that worktree to another branch (git -C <worktree> switch -), "
                    "then retry; edit tasks with `git wt task edit ID` instead",
                )


def open_store(
    wt: Worktree,
    agent: str,
    *,
    remote: str | None = None,
    branch: str | None = None,
    conf: dict[str, str] | None = None,
) -> BoardStore:
    """The board of this repository, or of `remote` (option, else `wt.task.remote`).
    `conf`: the `settings` already read (else they are read here)."""
    conf = settings(wt) if conf is None else conf
    ref = check_branch(wt, branch or conf.get("wt.task.branch") or DEFAULT_BRANCH)
    remote = remote or conf.get("wt.task.remote")
    if remote is None:
        turns = git_bool(conf.get("wt.task.turns", "true")) is not False
        return LocalStore(wt, ref, agent, turns=turns)
    from worktree_tools.tasks.remote import RemoteBoard

    return RemoteBoard(wt, ref, remote)
