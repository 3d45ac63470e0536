"""What the reference-transaction shim decides once there is something to decide.

At `prepared` (git aborts the whole transaction on a non-zero exit, before a commit moves HEAD or
a stash resets the files): an agent may not update refs/stash, and may not move a branch checked
out in a worktree it does not own (the main worktree, or another agent's), nor the detached HEAD
of such a worktree. At `committed`: every plain-git branch move is appended to the event log.
worktree-tools' own moves carry a pass (core/permit.py) and never get here on Linux.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from worktree_tools.core import events, permit, statefiles
from worktree_tools.core.agent import OWNER_FILE, fallback, valid_name
from worktree_tools.core.errors import InvalidInput, Outcome, exit_code
from worktree_tools.core.repo import Worktree, is_null
from worktree_tools.guard import suggest
from worktree_tools.guard.actor import Actor
from worktree_tools.hooks.checkout import HOOK_WORKTREES

PREFIX = "wt guard:"
REFUSED_EXIT = exit_code(Outcome.REJECTED)  # any non-zero aborts the transaction
_OID = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


class Mode(str, Enum):
    OFF = "off"
    WARN = "warn"
    REFUSE = "refuse"

    @classmethod
    def parse(cls, raw: str | None) -> tuple[Mode, str | None]:
        """(mode, complaint): an unreadable value counts as refuse, and says so."""
        if raw is None or raw.strip() == "":
            return cls.REFUSE, None
        try:
            return cls(raw.strip().lower()), None
        except ValueError:
            return cls.REFUSE, (
                f"wt.guard is {raw!r}, not off|warn|refuse; refusing as the default does "
                "(fix: git config wt.guard refuse)"
            )


@dataclass(frozen=True)
class RefUpdate:
    old: str
    new: str
    ref: str

    @classmethod
    def parse(cls, line: str) -> RefUpdate:
        parts = line.split(" ")
        if len(parts) != 3 or not _OID.match(parts[0]) or not _OID.match(parts[1]) or not parts[2]:
            raise InvalidInput(f"not a reference-transaction line: {line!r}")
        return cls(parts[0], parts[1], parts[2])

    @property
    def moves(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class Tree:
    """A worktree as its admin dir records it: no git call (git holds ref locks meanwhile)."""

    gitdir: Path
    top: Path | None
    is_main: bool
    head: str | None  # refs/heads/x, or None when detached or unreadable
    owner: str | None


def trees(wt: Worktree) -> list[Tree]:
    found = [_tree(wt.commondir, wt.commondir.parent if wt.commondir.name == ".git" else None)]
    admin = wt.commondir / statefiles.GIT_WORKTREES
    try:
        names = sorted(os.listdir(admin))
    except OSError:
        names = []
    for name in names:
        gd = admin / name
        try:
            top = Path((gd / "gitdir").read_text(encoding="utf-8").strip()).parent
        except OSError:
            top = None
        found.append(_tree(gd, top, main=False))
    return found


def _tree(gitdir: Path, top: Path | None, *, main: bool = True) -> Tree:
    try:
        text = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
        head = text[5:].strip() if text.startswith("ref: ") else None
    except OSError:
        head = None
    try:
        owner: str | None = (gitdir / OWNER_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        owner = None
    if owner is not None and not valid_name(owner):
        owner = None
    return Tree(gitdir, top, main, head, owner)


@dataclass(frozen=True)
class Violation:
    what: str  # one sentence: what the agent may not do
    here: bool  # about the worktree git runs in (the fix is a wt-commit here)


def _owns(actor: Actor, tree: Tree, current: Tree, state_dir: Path) -> bool:
    if tree.top is not None and _inside(tree.top, state_dir / HOOK_WORKTREES):
        return True  # worktree-tools' own hook checkouts: nobody's work
    if tree.owner is None:
        return False  # the main worktree, or one nobody allocated: shared with people
    if actor.name:
        return tree.owner == actor.name
    # Only a harness marker: a session started inside an allocated worktree is its agent.
    return tree.gitdir == current.gitdir and not tree.is_main


def _inside(path: Path, parent: Path) -> bool:
    p, q = os.path.realpath(path), os.path.realpath(parent)
    return p == q or p.startswith(q.rstrip("/") + "/")


def _where(tree: Tree) -> str:
    where = "the main worktree" if tree.is_main else f"{tree.owner or 'nobody'}'s worktree"
    return f"{where} {tree.top}" if tree.top else where


def _really_moves(wt: Worktree, u: RefUpdate) -> bool:
    """`git update-ref REF NEW` without an old value reports old as zero: it moves the ref
    only if the ref does not already hold NEW (still readable at `prepared`)."""
    if not u.moves:
        return False
    if not is_null(u.old):
        return True
    res = wt.git(["rev-parse", "-q", "--verify", "--end-of-options", u.ref], check=False)
    return res.returncode != 0 or res.out.strip() != u.new


def violations(wt: Worktree, actor: Actor, updates: list[RefUpdate]) -> list[Violation]:
    moving = [u for u in updates if _really_moves(wt, u)]
    found: list[Violation] = []
    all_trees = trees(wt)
    current = next((t for t in all_trees if t.gitdir == wt.gitdir), _tree(wt.gitdir, wt.toplevel))
    branch_moves = {(u.old, u.new) for u in moving if u.ref.startswith("refs/heads/")}
    for u in moving:
        if u.ref == "refs/stash":
            found.append(
                Violation(
                    "update refs/stash: the stash is one stack shared by every worktree", True
                )
            )
        elif u.ref.startswith("refs/heads/"):
            for tree in all_trees:
                if tree.head == u.ref and not _owns(actor, tree, current, wt.state_dir):
                    branch = u.ref.removeprefix("refs/heads/")
                    found.append(
                        Violation(
                            f"move branch {branch}, checked out in {_where(tree)}",
                            tree.gitdir == current.gitdir,
                        )
                    )
        elif (
            u.ref == "HEAD"
            and (u.old, u.new) not in branch_moves  # not the log-only twin of a branch move
            and not _owns(actor, current, current, wt.state_dir)
        ):
            found.append(Violation(f"move the detached HEAD of {_where(current)}", True))
    return found


def _git_command(git_pid: int) -> list[str]:
    try:
        with open(f"/proc/{git_pid}/cmdline", "rb") as fh:
            return [os.fsdecode(a) for a in fh.read().split(b"\0") if a]
    except OSError:
        pass
    try:
        import psutil

        return [str(a) for a in psutil.Process(git_pid).cmdline()]
    except Exception:  # gone, or not allowed: the message only loses detail
        return []


def _caller_cwd(git_pid: int) -> Path | None:
    """Where the agent ran git from (git itself has moved to the top of the worktree)."""
    caller = permit.parent_of(git_pid)
    if caller is None:
        return None
    try:
        return Path(os.readlink(f"/proc/{caller}/cwd"))
    except OSError:
        pass
    try:
        import psutil

        return Path(psutil.Process(caller).cwd())
    except Exception:
        return None


def _commit_messages(wt: Worktree, argv: list[str]) -> list[str]:
    """The message of a `git commit` being refused, as wt-commit -m paragraphs."""
    if "commit" not in argv[1:3]:
        return []
    try:
        raw = (wt.gitdir / "COMMIT_EDITMSG").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    lines = [ln.rstrip() for ln in raw.splitlines() if not ln.startswith("#")]
    paragraphs = "\n".join(lines).strip().split("\n\n")
    return [p.strip() for p in paragraphs if p.strip()]


def _read_mode(wt: Worktree) -> tuple[Mode, str | None]:
    res = wt.git(["config", "--get", "wt.guard"], check=False)
    return Mode.parse(res.out if res.returncode == 0 else None)


def run(wt: Worktree, state: str, lines: list[str], git_pid: int) -> int:
    """The hook's exit code for transaction `state` with stdin `lines`."""
    if state not in ("prepared", "committed"):
        return 0
    updates = []
    for ln in lines:
        try:
            updates.append(RefUpdate.parse(ln))
        except InvalidInput:
            continue  # newer git also reports symref updates ("ref:..."): not a branch move
    mode, complaint = _read_mode(wt)
    if mode is Mode.OFF:
        return 0
    if permit.holds_pass(wt.state_dir, git_pid):
        return 0
    actor = Actor.detect()
    argv = _git_command(git_pid)
    who = actor.name or (fallback() if not actor.is_agent else f"{actor.harness}-agent")
    if state == "committed":
        for u in updates:
            if u.moves and u.ref.startswith("refs/heads/"):
                events.append(
                    wt.state_dir, "branch_moved", who,
                    outcome="moved", worktree=os.fspath(wt.toplevel),
                    branch=u.ref.removeprefix("refs/heads/"),
                    old=None if is_null(u.old) else u.old,
                    commit=None if is_null(u.new) else u.new,
                    by="agent" if actor.is_agent else "person", harness=actor.harness,
                    command=argv[:20],
                )  # fmt: skip
        return 0
    if not actor.is_agent:
        return 0
    found = violations(wt, actor, updates)
    if not found:
        return 0
    if complaint:
        print(f"{PREFIX} {complaint}", file=sys.stderr)
    fix = _fix(wt, found, argv, git_pid)
    shown = " ".join(argv[:6]) or "plain git"
    verb = "refused" if mode is Mode.REFUSE else "warning"
    for v in found:
        print(f"{PREFIX} {verb}: {actor.describe()} may not {v.what} with {shown}", file=sys.stderr)
    print(f"{PREFIX} fix: {fix}", file=sys.stderr)
    if mode is Mode.REFUSE:
        print(
            f"{PREFIX} git aborted the update: no ref moved; a person (no agent marker) is "
            "never refused, and `git config wt.guard warn` only warns",
            file=sys.stderr,
        )
    events.append(
        wt.state_dir, "guard_refused" if mode is Mode.REFUSE else "guard_warned", who,
        outcome="rejected" if mode is Mode.REFUSE else "warned",
        worktree=os.fspath(wt.toplevel), error="; ".join(v.what for v in found), fix=fix,
        harness=actor.harness, command=argv[:20],
        refs=[u.ref for u in updates if u.moves],
        exit_code=REFUSED_EXIT if mode is Mode.REFUSE else None,
    )  # fmt: skip
    return REFUSED_EXIT if mode is Mode.REFUSE else 0


def _fix(wt: Worktree, found: list[Violation], argv: list[str], git_pid: int) -> str:
    if not any(v.here for v in found):
        return (
            "work in your own worktree (git wt alloc NAME, then wt-commit there); branches "
            "checked out elsewhere move only by wt-commit, land or sync in their own worktree"
        )
    messages = _commit_messages(wt, argv)
    cmd = suggest.commit_command(
        wt, messages=messages or (["wip"] if "stash" in argv[1:3] else []),
        cwd=_caller_cwd(git_pid),
    )  # fmt: skip
    if cmd is None:
        return "nothing is changed in this worktree; there is nothing to commit or stash"
    return cmd
