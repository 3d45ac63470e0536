"""Move the target: a compare-and-swap of the local branch (carrying its checkouts along, as
`git checkout` would), or a fast-forward-only push of the remote branch.

Local: under git's index.lock of every worktree that has the target checked out, and the
repository lock (the order wt-commit takes them), the branch moves by the one CAS (commit/swap.py).
Then each such worktree's index and files follow from OLD to NEW, path by path: a path whose
index entry and file still equal OLD is written as in NEW; a path with unstaged changes gets
NEW's index entry and keeps its file; a staged path or an untracked file in the way is left
alone; what differs from NEW afterwards is reported. The same step run again (after a crash)
finishes the job, so a lander that dies after the swap leaves nothing the next cannot repair.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.commit.swap import Moved, cas, index_search, stale_reporter
from worktree_tools.core import faults
from worktree_tools.core.errors import LockTimeout, Rejected
from worktree_tools.core.gitcmd import nul_join
from worktree_tools.core.gitlocks import GitFileLock
from worktree_tools.core.locks import REPO_LOCK, Holder, RecordedLock
from worktree_tools.core.repo import Worktree
from worktree_tools.remote import transport
from worktree_tools.remote.transport import PushStatus
from worktree_tools.worktrees.gitinfo import admin_dir_of

__all__ = [
    "Moved", "SyncReport", "checkouts_of", "follow_remote", "move_local", "push_remote",
    "sync_checkout",
]  # fmt: skip


@dataclass(frozen=True)
class SyncReport:
    """One checkout of the target, after the move."""

    worktree: str
    updated: int
    left_alone: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"worktree": self.worktree, "updated": self.updated, "left_alone": self.left_alone}


def checkouts_of(wt: Worktree, branch: str) -> list[Worktree]:
    """The worktrees that have `branch` checked out (git allows one, `--force` more), read from
    their HEAD files (no git process, no lock: a landing asks this every time)."""
    ref = f"ref: refs/heads/{branch}"
    out: list[Worktree] = []
    main_top = wt.commondir.parent
    is_main = wt.commondir.name == ".git" and (main_top / ".git").is_dir()
    if is_main and _read(wt.commondir / "HEAD") == ref:
        out.append(Worktree(main_top, wt.commondir, wt.commondir, wt.hooks_dir))
    try:
        admins = sorted((wt.commondir / "worktrees").iterdir())
    except FileNotFoundError:
        admins = []
    for admin in admins:
        if _read(admin / "HEAD") != ref:
            continue
        dotgit = _read(admin / "gitdir")
        if not dotgit:
            continue
        top = Path(dotgit).parent
        linked = admin_dir_of(top)
        if top.is_dir() and linked is not None and _same(linked, admin):
            out.append(Worktree(top, admin, wt.commondir, wt.hooks_dir))
    return out


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def move_local(
    wt: Worktree, branch: str, old: str, new: str, *, agent: str, reason: str, deadline: float
) -> list[SyncReport]:
    """CAS `refs/heads/BRANCH` from `old` to `new` and bring its checkouts along. Raises Moved
    (nothing changed) when the branch is no longer at `old`."""
    ref = f"refs/heads/{branch}"
    trees = checkouts_of(wt, branch)
    report = stale_reporter(wt, agent)
    with contextlib.ExitStack() as stack:
        for tw in trees:
            dirs, exclude = index_search(tw)
            stack.enter_context(GitFileLock(tw.index_path, dirs, deadline, report, exclude))
        stack.enter_context(
            RecordedLock(wt.state_dir / REPO_LOCK, "repository lock", Holder.me(agent), deadline)
        )
        faults.point("land-swap")
        cas(wt, ref, new, old, reason, deadline, report)
        faults.point("land-swapped")
        return [_sync_locked(tw, branch, old, new) for tw in trees]


def sync_checkout(
    wt: Worktree, branch: str, old: str, new: str, *, agent: str, deadline: float
) -> list[SyncReport]:
    """Bring the checkouts of `branch` from `old` to `new` (the repair after a crash)."""
    trees = checkouts_of(wt, branch)
    out = []
    report = stale_reporter(wt, agent)
    for tw in trees:
        dirs, exclude = index_search(tw)
        with GitFileLock(tw.index_path, dirs, deadline, report, exclude):
            out.append(_sync_locked(tw, branch, old, new))
    return out


def _sync_locked(tw: Worktree, branch: str, old: str, new: str) -> SyncReport:
    """(caller holds tw's index.lock) tw's index and files from `old` to `new`, path by path."""
    if tw.head_ref() != f"refs/heads/{branch}":
        return SyncReport(os.fspath(tw.toplevel), 0)
    changed = _names(tw, ["diff-tree", "-r", "-z", "--name-only", "--no-renames", old, new])
    if not changed:
        return SyncReport(os.fspath(tw.toplevel), 0)
    with tempfile.TemporaryDirectory(prefix="wt-land-sync-") as tmp:
        index = Path(tmp) / "index"
        had_index = tw.index_path.exists()
        if had_index:
            shutil.copyfile(tw.index_path, index)
        else:
            tw.git(["read-tree", old], index=index)
        tw.git(["update-index", "-q", "--refresh"], index=index, check=False)
        # Usually nothing local is in the way: git's own two-tree merge does it all (it
        # refuses, changing nothing, when a path to change has local changes).
        if tw.git(["read-tree", "-m", "-u", old, new], index=index, check=False).returncode == 0:
            os.replace(index, tw.index_path)
            faults.point("land-checkout-synced")
            return SyncReport(os.fspath(tw.toplevel), len(changed))
        staged = set(
            _names(tw, ["diff-index", "--cached", "-z", "--name-only", old, "--", *changed], index)
        )
        unstaged = set(_names(tw, ["diff-files", "-z", "--name-only", "--", *changed], index))
        tracked = set(_names(tw, ["ls-files", "-z", "--", *changed], index))
        in_way = {p for p in changed if p not in tracked and os.path.lexists(tw.toplevel / p)}
        move = [p for p in changed if p not in staged]
        if move:
            tw.git(
                ["reset", "-q", new, "--pathspec-from-file=-", "--pathspec-file-nul"],
                index=index,
                input=nul_join(move),
                literal=True,
            )
        write = [p for p in move if p not in unstaged and p not in in_way]
        present = set(_names(tw, ["ls-files", "-z", "--", *write], index)) if write else set()
        for rel in write:
            if rel not in present:
                _remove(tw.toplevel, rel)
        if present:
            tw.git(
                ["checkout-index", "-f", "-u", "-z", "--stdin"],
                index=index,
                input=nul_join(sorted(present)),
                literal=True,
            )
        left = set(
            _names(tw, ["diff-index", "--cached", "-z", "--name-only", new, "--", *changed], index)
        )
        left |= set(_names(tw, ["diff-files", "-z", "--name-only", "--", *changed], index))
        left |= in_way
        os.replace(index, tw.index_path)  # we hold index.lock, as git does when it writes
    faults.point("land-checkout-synced")
    return SyncReport(os.fspath(tw.toplevel), len(write), sorted(left))


def _names(tw: Worktree, args: list[str], index: Path | None = None) -> list[str]:
    res = tw.git(args, index=index, literal=True)
    return [os.fsdecode(p) for p in res.stdout.split(b"\0") if p]


def _remove(top: Path, rel: str) -> None:
    path = top / rel
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    parent = path.parent
    while parent != top:
        try:
            parent.rmdir()  # only when empty, as git does
        except OSError:
            break
        parent = parent.parent


# ---- --push: the remote branch is the target ------------------------------------------------


def follow_remote(
    wt: Worktree, branch: str, remote: str, new: str, agent: str, deadline: float
) -> dict[str, Any]:
    """After a push: the local branch (and its checkouts) follows when it was at or behind."""
    now = wt.resolve(f"refs/heads/{branch}")
    if now is None:
        return {"moved": False, "why": "no local branch"}
    if wt.git(["merge-base", "--is-ancestor", now[0], new], check=False).returncode:
        return {"moved": False, "why": f"local {branch} has commits {remote} lacks"}
    if now[0] == new:
        return {"moved": True, "checkouts": []}
    reason = f"git wt land: follow {remote}/{branch}"
    try:
        reports = move_local(wt, branch, now[0], new, agent=agent, reason=reason, deadline=deadline)
    except (Moved, LockTimeout, Rejected) as err:
        return {"moved": False, "why": str(err)}
    return {"moved": True, "checkouts": [s.to_json() for s in reports]}


def remote_tip(wt: Worktree, remote: str, branch: str) -> str | None:
    return transport.remote_tip(wt, remote, f"refs/heads/{branch}")


def push_remote(wt: Worktree, remote: str, branch: str, new: str, *, attempts: int = 5) -> bool:
    """Push `new` to REMOTE's branch as a fast-forward, never forced. True: landed; False: the
    remote branch moved (rebuild on its new tip). A busy server is retried."""
    ref = f"refs/heads/{branch}"
    for attempt in range(attempts):
        faults.point("land-swap")
        report = transport.push(wt, remote, [f"{new}:{ref}"])
        status = report.status(ref)
        if status in (PushStatus.OK, PushStatus.UP_TO_DATE):
            faults.point("land-swapped")
            return True
        if status is PushStatus.MOVED:
            return False
        if status is PushStatus.REFUSED:
            raise Rejected(
                f"{remote} refused {ref}: {report.summaries.get(ref) or report.output}",
                fix="a server-side hook or branch protection said no; nothing was landed",
            )
        time.sleep(0.02 * 2**attempt)
    return False
