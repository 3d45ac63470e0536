"""The one way worktree-tools moves a ref: compare-and-swap, one failure policy, one reflog format.

Every ref the tools create, move or delete (a branch landing a commit, a fast-forward, a lease,
a journal checkpoint, a rescue, a branch gc deletes, a hook checkout's HEAD) goes through
`move`: `git update-ref -m MESSAGE REF NEW OLD` with an expected old value always given (the
null id when the ref must not exist), so nothing is ever overwritten that someone else wrote.

Failure policy, the same everywhere:
- the ref is not at `expected` -> RefMoved (exit 4, conflict) carrying `current` (None: absent);
- the ref is at `expected` but its `.lock` is held by another git process -> wait for it (a
  stale lock is removed and reported) until `deadline`, then LockTimeout (exit 3);
- git refuses for any other reason -> Rejected (exit 6).

The reflog message names the tool and the agent: `reflog(tool, agent, what)` gives
`<tool> (<agent>): <what>`, e.g. `wt-commit (alice): fix the parser` or
`git wt gc (bob): integrated`.

On wt-commit's hot path: no pygit2, no psutil.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from worktree_tools.core import permit
from worktree_tools.core.errors import RefMoved, Rejected
from worktree_tools.core.gitlocks import StaleReport, wait_until_free
from worktree_tools.core.repo import Worktree, null_oid


def reflog(tool: str, agent: str, what: str | None = None) -> str:
    """The reflog message of a ref move: `<tool> (<agent>): <what>`."""
    head = f"{tool} ({agent})"
    return f"{head}: {what}" if what else head


def search_dirs(wt: Worktree) -> list[Path]:
    """Where a git process holding one of this repository's ref locks may work: in any of its
    worktrees, so this one, the git dirs and the main worktree around `<top>/.git`."""
    dirs = [wt.toplevel, wt.gitdir, wt.commondir]
    if wt.commondir.name == ".git":
        dirs.append(wt.commondir.parent)
    return dirs


def current(wt: Worktree, ref: str) -> str | None:
    """Where `ref` points now (not peeled, not dereferenced), None when it does not exist."""
    if ref.startswith("refs/"):
        now = wt.resolve(ref)
        return now[0] if now else None
    out = wt.git(["rev-parse", "-q", "--verify", ref], check=False).out.strip()
    return out or None


def _ignore(info: dict[str, Any]) -> None:
    return None


def move(
    wt: Worktree,
    ref: str,
    new: str | None,
    expected: str | None,
    message: str,
    *,
    deadline: float | None = None,
    report: StaleReport | None = None,
    permitted: bool = True,
    no_deref: bool = False,
) -> None:
    """Move `ref` from `expected` (None: must not exist) to `new` (None: delete it).

    `permitted`: hold the guard's pass (core/permit.py) so the reference-transaction guard lets
    this move through; every move of the tools' own is permitted. `deadline` (monotonic) bounds
    the wait for a ref lock another git process holds; None waits not at all."""
    if new is None and expected is None:
        raise ValueError("a deletion needs the expected old value")
    like = new or expected or ""
    old = expected or null_oid(like)
    args = ["update-ref", "-m", message]
    if no_deref:
        args.append("--no-deref")
    args += ["-d", ref, old] if new is None else [ref, new, old]
    stop = time.monotonic() if deadline is None else deadline
    reporter: Callable[[dict[str, Any]], None] = report or _ignore
    while True:
        if permitted:
            with permit.granted(wt):
                res = wt.git(args, check=False)
        else:
            res = wt.git(args, check=False)
        if res.returncode == 0:
            return
        now = current(wt, ref)
        if now != expected:
            raise RefMoved(
                f"{ref} is at {now[:12] if now else 'nothing'}, not at "
                f"{expected[:12] if expected else 'nothing'}; it was not moved",
                fix=f"inspect `git log -g {ref}` and run the same command again",
                current=now,
            )
        lock = wt.commondir / (ref + ".lock")
        if ref == "HEAD" or not ref.startswith("refs/"):
            lock = wt.gitdir / (ref + ".lock")
        if lock.exists():
            wait_until_free(lock, search_dirs(wt), stop, reporter)  # LockTimeout at `stop`
            continue
        raise Rejected(f"git refused to move {ref}: {res.err.strip()}")
