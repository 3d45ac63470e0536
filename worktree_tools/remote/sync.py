"""`git wt sync`: the safe pull.

For the current worktree (or, with all_worktrees, every worktree of the repository): read the
remote branch of the same name, and move the local branch to it only when that loses nothing:

    up_to_date      the local branch is the remote branch
    fast_forwarded  the local branch was behind; it, the index and the files moved (see advance)
    ahead           the local branch has commits the remote lacks: reported, not touched
    diverged        both sides have commits of their own: reported, not touched
    dirty           behind, but the worktree has uncommitted changes: reported, not touched
    blocked         git refused to update a file (an untracked file in the way): not touched
    detached        HEAD is not on a branch
    no_remote_branch

Never an autostash, never a merge commit, never a rebase. One exception to "behind": local
commits that are already on the remote as replays (`git cherry` marks them `-`, as wt-commit
--push leaves them when it could not move the branch) count as pushed, so the branch moves to the
remote. Every move happens under the repository lock.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.core import events, refs, wtlist
from worktree_tools.core.enums import WordEnum
from worktree_tools.core.errors import Outcome, WtError
from worktree_tools.core.locks import REPO_LOCK, Holder, RecordedLock
from worktree_tools.core.repo import Worktree, discover
from worktree_tools.remote import transport
from worktree_tools.remote.advance import Advance, advance

MOVE_ATTEMPTS = 3


class SyncState(WordEnum):
    UP_TO_DATE = "up_to_date"
    FAST_FORWARDED = "fast_forwarded"
    AHEAD = "ahead"
    DIVERGED = "diverged"
    DIRTY = "dirty"
    BLOCKED = "blocked"
    DETACHED = "detached"
    NO_REMOTE_BRANCH = "no_remote_branch"

    @property
    def fine(self) -> bool:
        return self in _FINE


_FINE = {
    SyncState.UP_TO_DATE,
    SyncState.FAST_FORWARDED,
    SyncState.AHEAD,
    SyncState.NO_REMOTE_BRANCH,
}


@dataclass(frozen=True)
class WorktreeSync:
    worktree: str
    branch: str | None
    state: SyncState
    before: str | None = None
    after: str | None = None
    remote_tip: str | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "worktree": self.worktree,
            "branch": self.branch,
            "state": self.state.value,
            "before": self.before,
            "after": self.after,
            "remote_tip": self.remote_tip,
            "detail": self.detail or None,
        }


@dataclass
class SyncResult:
    remote: str
    worktrees: list[WorktreeSync] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        return Outcome.OK if all(w.state.fine for w in self.worktrees) else Outcome.ATTENTION

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "remote": self.remote,
            "worktrees": [w.to_json() for w in self.worktrees],
        }


def sync(
    wt: Worktree, *, remote: str, agent: str, all_worktrees: bool, lock_timeout: float
) -> SyncResult:
    """Fast-forward this worktree (or every one) to the remote where that is safe."""
    transport.check_remote(remote)
    result = SyncResult(remote)
    targets = _worktrees(wt) if all_worktrees else [wt]
    for target in targets:
        one = _sync_one(target, remote, agent, time.monotonic() + lock_timeout)
        result.worktrees.append(one)
        events.append(
            wt.state_dir, "sync", agent, remote=remote, **one.to_json()
        )  # every worktree examined, touched or not
    return result


def _worktrees(wt: Worktree) -> list[Worktree]:
    out: list[Worktree] = []
    for listed in wtlist.worktree_list(wt):
        if listed.bare:
            continue
        path = Path(listed.path)
        if path.is_dir():
            out.append(discover(path, inherit_env=False))
    return out


def _dirty(wt: Worktree) -> list[str]:
    # --no-optional-locks: a look must not take index.lock from a concurrent `git add` (R13).
    res = wt.git(["--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=no"])
    return [e[3:] for e in res.out.split("\0") if len(e) > 3 and e[2] == " "]


def _dirty_settled(
    wt: Worktree, ref: str, local: str | None, agent: str, deadline: float
) -> list[str] | None:
    """The uncommitted changes, looked at again under the repository lock (None when the
    branch moved meanwhile): a wt-commit landing writes the index before it moves the branch,
    both under that lock, so a look outside it can take the commit's paths for changes."""
    with RecordedLock(wt.state_dir / REPO_LOCK, "repository lock", Holder.me(agent), deadline):
        now = wt.resolve(ref)
        if (now[0] if now else None) != local:
            return None
        return _dirty(wt)


def _sync_one(wt: Worktree, remote: str, agent: str, deadline: float) -> WorktreeSync:
    where = str(wt.toplevel)
    ref = wt.head_ref()
    if ref is None or not ref.startswith("refs/heads/"):
        return WorktreeSync(where, None, SyncState.DETACHED, detail="HEAD is not on a branch")
    branch = ref.removeprefix("refs/heads/")
    tip = transport.remote_tip(wt, remote, ref)
    if tip is None:
        now = wt.resolve(ref)
        local = now[0] if now else None
        return WorktreeSync(where, branch, SyncState.NO_REMOTE_BRANCH, local, local)
    _track(wt, remote, branch, tip, agent)
    for _ in range(MOVE_ATTEMPTS):
        result = _try_move(wt, where, ref, tip, remote, agent, deadline)
        if result is not None:
            return result
        # The branch moved between our look and the move (a commit landed): look again.
    return WorktreeSync(
        where, branch, SyncState.BLOCKED, detail=f"{ref} kept moving; try again", remote_tip=tip
    )


def _try_move(
    wt: Worktree, where: str, ref: str, tip: str, remote: str, agent: str, deadline: float
) -> WorktreeSync | None:
    """Classify and, if behind and clean, fast-forward; None when the branch moved meanwhile."""
    branch = ref.removeprefix("refs/heads/")
    now = wt.resolve(ref)
    local = now[0] if now else None

    def report(state: SyncState, detail: str = "", after: str | None = local) -> WorktreeSync:
        return WorktreeSync(where, branch, state, local, after, tip, detail)

    if local == tip:
        return report(SyncState.UP_TO_DATE)
    if local is not None and _is_ancestor(wt, tip, local):
        n = wt.git(["rev-list", "--count", f"{tip}..{local}"]).out.strip()
        return report(SyncState.AHEAD, f"{n} local commit(s) not on {remote}/{branch}")
    if local is not None and not _is_ancestor(wt, local, tip):
        unpushed = [
            line[2:] for line in wt.git(["cherry", tip, local]).out.splitlines() if line[:1] == "+"
        ]
        if unpushed:
            return report(
                SyncState.DIVERGED,
                f"{len(unpushed)} local commit(s) not on {remote}/{branch} and "
                f"{remote}/{branch} has commits the local branch lacks",
            )
    dirty = _dirty(wt) and _dirty_settled(wt, ref, local, agent, deadline)
    if dirty is None:
        return None  # a commit landed while we looked: look again
    if dirty:
        return report(
            SyncState.DIRTY,
            f"{len(dirty)} uncommitted change(s), e.g. {dirty[0]}: commit them first",
        )
    if local is None:
        return report(SyncState.BLOCKED, f"{ref} does not exist yet (unborn branch)")
    res = advance(
        wt, ref, local, tip, agent=agent, deadline=deadline,
        reason=f"git wt sync ({agent}): fast-forward to {remote}/{branch}",
    )  # fmt: skip
    if res.status is Advance.MOVED:
        return report(SyncState.FAST_FORWARDED, after=tip)
    if res.status is Advance.NOT_AT_OLD and wt.head_ref() == ref:
        return None
    return report(SyncState.BLOCKED, res.detail)


def _track(wt: Worktree, remote: str, branch: str, tip: str, agent: str) -> None:
    """Keep refs/remotes/REMOTE/BRANCH current for `git status` (best effort, a named remote)."""
    if wt.git(["config", "--get", f"remote.{remote}.url"], check=False).returncode != 0:
        return
    ref = f"refs/remotes/{remote}/{branch}"
    with contextlib.suppress(WtError):  # someone else moved it meanwhile: theirs stands
        refs.move(wt, ref, tip, refs.current(wt, ref), refs.reflog("git wt sync", agent, "track"))


def _is_ancestor(wt: Worktree, a: str, b: str) -> bool:
    return wt.git(["merge-base", "--is-ancestor", a, b], check=False).returncode == 0
