"""`wt-commit --push`: publish a commit to the remote branch, replaying it when the branch moved.

Policy, in order:
  1. Push the commit C (`git push REMOTE C:refs/heads/BRANCH`): never `--force`, so the server
     accepts it only as a fast-forward.
  2. Refused because the remote branch moved to R: fetch R. If C is already in R, done. If the
     local branch has other commits the remote lacks (`git cherry R PARENT` shows one), or any
     of C's paths differ between C's parent P and R, stop: outcome `conflict`, C intact.
  3. Otherwise build C' = R's tree with C's entries for C's paths (a private index), with C's
     message, author and author date, parent R; push C' (a fast-forward of R). Retry from 2 with
     exponential backoff and jitter, at most `retries` times.
  4. After C' landed, bring the local branch from C to C' only if it is still at C, and only by
     git's two-tree merge (see advance): the paths R changed are updated in the index and files
     when they are unmodified, else nothing is touched and the note says so (`git wt sync`
     finishes it later: it sees C is already on the remote). No commit another machine has is
     ever rewritten: only C, which was never on the remote, is replayed.
With a fence, each push also moves the lease ref atomically (`--atomic`, the ref expected at
the record carrying our token) to a copy of that record, so the branch moves only while our
token is current. The copy is the same record (same `renewed_at`): a fenced commit never renews
a lease; only `git wt lease renew` does.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from typing import Any

from worktree_tools.core import commits, events, trees
from worktree_tools.core.errors import InvalidInput, LockTimeout, RefMoved, Rejected, WtError
from worktree_tools.core.repo import Worktree
from worktree_tools.remote import records, transport
from worktree_tools.remote.advance import Advance, advance
from worktree_tools.remote.fence import Fence, FenceCheck, verify
from worktree_tools.remote.store import RemoteStore
from worktree_tools.remote.transport import PushStatus

BACKOFF_BASE = 0.02  # seconds; doubled per retry, jittered, capped
BACKOFF_CAP = 1.0


@dataclass(frozen=True)
class PushOutcome:
    remote: str
    branch: str
    commit: str  # the local commit that was asked to be pushed
    pushed: str  # what the remote branch holds from us now: the commit or its replay
    pushes: int
    replays: int
    local: str  # the local branch tip afterwards
    local_moved: bool
    note: str | None = None
    fence_token: int | None = None

    @property
    def retries(self) -> int:
        return self.pushes - 1

    def to_json(self) -> dict[str, Any]:
        return {
            "remote": self.remote,
            "branch": self.branch,
            "commit": self.commit,
            "pushed": self.pushed,
            "replayed": self.pushed != self.commit,
            "pushes": self.pushes,
            "retries": self.retries,
            "replays": self.replays,
            "local": self.local,
            "local_moved": self.local_moved,
            "note": self.note,
            "fence_token": self.fence_token,
        }


def push_commit(
    wt: Worktree,
    result: Any,
    *,
    remote: str,
    retries: int,
    agent: str,
    fence: Fence | None = None,
    lock_timeout: float = 30.0,
) -> PushOutcome:
    """Push wt-commit's result (a CommitResult: `.commit` on `.branch`); see the module doc."""
    if not result.commit or not result.branch:
        raise InvalidInput("nothing to push: no commit on a branch")
    return push_branch(
        wt, result.commit, result.branch, remote=remote, retries=retries, agent=agent,
        fence=fence, lock_timeout=lock_timeout,
    )  # fmt: skip


def push_branch(
    wt: Worktree,
    commit: str,
    branch: str,
    *,
    remote: str,
    retries: int,
    agent: str,
    fence: Fence | None = None,
    lock_timeout: float = 30.0,
) -> PushOutcome:
    transport.check_remote(remote)
    if retries < 0:
        raise InvalidInput("--retries must be 0 or more")
    try:
        return _push(wt, commit, branch, remote, retries, agent, fence, lock_timeout)
    except WtError as err:
        events.append(
            wt.state_dir, "push", agent, outcome=err.outcome.value, remote=remote,
            branch=branch, commit=commit, error=err.message,
        )  # fmt: skip
        err.details.setdefault("commit", commit)
        raise


def _push(
    wt: Worktree,
    commit: str,
    branch: str,
    remote: str,
    retries: int,
    agent: str,
    fence: Fence | None,
    lock_timeout: float,
) -> PushOutcome:
    ref = f"refs/heads/{branch}"
    then = f"the local commit {commit[:12]} is intact and not pushed"
    parent = _parent(wt, commit)
    store = RemoteStore(wt, remote) if fence is not None else None
    check = (
        verify(store, fence, agent=agent, then=then)
        if store is not None and fence is not None
        else None
    )
    candidate, pushes, replays = commit, 0, 0
    for attempt in range(retries + 1):
        if attempt:
            _backoff(attempt)
        refspecs = [f"{candidate}:{ref}"]
        leases: dict[str, str | None] | None = None
        if check is not None:
            # A new commit of the same record: a ref update the server must check against
            # check.oid (a no-op push would not be sent at all), without renewing the lease.
            same = records.write(wt, check.record, check.oid)
            lref = records.lease_ref(check.fence.name)
            refspecs.append(f"{same}:{lref}")
            leases = {lref: check.oid}
        report = transport.push(wt, remote, refspecs, leases=leases, atomic=check is not None)
        pushes += 1
        if report.ok:
            return _landed(wt, agent, remote, branch, commit, candidate, pushes, replays, check,
                           lock_timeout)  # fmt: skip
        if check is not None and store is not None:
            lstatus = report.status(records.lease_ref(check.fence.name))
            if lstatus is PushStatus.MOVED:
                # StaleFence when someone else took it; else we renewed it elsewhere: go on.
                check = verify(store, check.fence, agent=agent, then=then)
                continue
        status = report.status(ref)
        if status is PushStatus.REFUSED:
            raise Rejected(
                f"{remote} refused {ref}: {report.summaries.get(ref) or report.output}",
                fix="a server-side hook or branch protection said no; the local commit "
                f"{commit[:12]} is intact",
                commit=commit,
            )
        if status is PushStatus.BUSY:
            continue
        tip = transport.remote_tip(wt, remote, ref)
        if tip is None:
            continue  # the branch was deleted on the remote: the next push creates it
        if _is_ancestor(wt, candidate, tip):
            return _landed(wt, agent, remote, branch, commit, candidate, pushes, replays, check,
                           lock_timeout)  # fmt: skip
        replayed = _replay(wt, commit, parent, tip, remote, branch)
        if replayed is None:  # the remote already has exactly our change
            return _landed(wt, agent, remote, branch, commit, tip, pushes, replays, check,
                           lock_timeout)  # fmt: skip
        candidate = replayed
        replays += 1
    raise RefMoved(
        f"{remote}/{branch} kept moving; gave up after {pushes} pushes; the local commit "
        f"{commit[:12]} is intact and not pushed",
        fix="run the same wt-commit --push again (it pushes the commit already made), with "
        "more --retries",
        commit=commit,
        pushes=pushes,
        retries=pushes - 1,
    )


def _landed(
    wt: Worktree,
    agent: str,
    remote: str,
    branch: str,
    commit: str,
    pushed: str,
    pushes: int,
    replays: int,
    check: FenceCheck | None,
    lock_timeout: float,
) -> PushOutcome:
    ref = f"refs/heads/{branch}"
    note: str | None = None
    moved = False
    if pushed != commit:
        try:
            res = advance(
                wt, ref, commit, pushed, agent=agent, deadline=time.monotonic() + lock_timeout,
                reason=f"wt-commit --push ({agent}): replayed onto {remote}/{branch}",
            )  # fmt: skip
            why = res.detail.splitlines()[0] if res.detail else res.status.value
            moved = res.status is Advance.MOVED
        except LockTimeout as err:  # the push landed: a busy lock must not read as a failure
            why, moved = err.message, False
        if not moved:
            note = (
                f"{remote}/{branch} has {pushed[:12]}, your commit {commit[:12]} replayed on "
                f"the remote's new changes; the local branch stays at {commit[:12]} ({why}). "
                "Run `git wt sync` once those paths are committed or clean."
            )
    now = wt.resolve(ref)
    local = now[0] if now else ""
    events.append(
        wt.state_dir, "push", agent, outcome="ok", remote=remote, branch=branch, commit=commit,
        pushed=pushed, pushes=pushes, replays=replays, local_moved=moved,
        fence=f"{check.fence.name}:{check.fence.token}" if check else None,
    )  # fmt: skip
    return PushOutcome(
        remote, branch, commit, pushed, pushes, replays, local, moved, note,
        check.fence.token if check else None,
    )  # fmt: skip


def _backoff(attempt: int) -> None:
    # Full jitter: machines that lost the same race spread out instead of colliding in step.
    time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))


def _parent(wt: Worktree, commit: str) -> str | None:
    res = wt.git(["rev-parse", "-q", "--verify", f"{commit}^1"], check=False)
    return res.out.strip() or None


def _is_ancestor(wt: Worktree, a: str, b: str) -> bool:
    return wt.git(["merge-base", "--is-ancestor", a, b], check=False).returncode == 0


def _paths(wt: Worktree, parent: str, commit: str) -> list[str]:
    res = wt.git(["diff-tree", "-r", "-z", "--name-only", "--no-renames", parent, commit])
    return [os.fsdecode(p) for p in res.stdout.split(b"\0") if p]


def _conflict(msg: str, commit: str, remote: str, branch: str, tip: str, **details: Any) -> None:
    raise RefMoved(
        f"{msg}; the local commit {commit[:12]} is intact and not pushed",
        fix=f"integrate {remote}/{branch}: git fetch {remote} {branch} && git rebase FETCH_HEAD "
        "(or merge it), then push again",
        commit=commit,
        remote_tip=tip,
        **details,
    )


def _replay(
    wt: Worktree, commit: str, parent: str | None, tip: str, remote: str, branch: str
) -> str | None:
    """C replayed onto `tip`, or None when `tip` already has exactly C's content."""
    if parent is None:
        _conflict(f"{remote}/{branch} exists and {commit[:12]} is a root commit", commit, remote,
                  branch, tip)  # fmt: skip
        raise AssertionError  # unreachable: _conflict raises
    lacking = [
        line[2:] for line in wt.git(["cherry", tip, parent]).out.splitlines() if line[:1] == "+"
    ]
    if lacking:
        _conflict(
            f"the local branch has {len(lacking)} other commit(s) that {remote}/{branch} lacks "
            f"(first: {lacking[0][:12]})",
            commit, remote, branch, tip, unpushed=lacking,
        )  # fmt: skip
    rels = _paths(wt, parent, commit)
    names = trees.changed(wt, parent, tip, rels)
    if names:
        _conflict(
            f"{remote}/{branch} moved to {tip[:12]} and changed the same paths: "
            + ", ".join(names[:10]),
            commit, remote, branch, tip, paths=names,
        )  # fmt: skip
    tree = trees.overlay(wt, tip, commit, rels)
    if tree == wt.git(["rev-parse", f"{tip}^{{tree}}"]).out.strip():
        return None
    return _commit_like(wt, commit, tree, tip)


def _commit_like(wt: Worktree, commit: str, tree: str, parent: str) -> str:
    """A commit of `tree` on `parent` with `commit`'s message, author and author date."""
    raw = wt.git(["cat-file", "commit", commit]).stdout
    headers, _, message = raw.partition(b"\n\n")
    who = wt.git(["log", "-1", "--format=%an%x00%ae%x00%ad", "--date=raw", commit]).out
    name, email, date = who.rstrip("\n").split("\0")
    author = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date}
    # C was signed: sign its replay too (with the default key).
    signed = any(line.startswith(b"gpgsig") for line in headers.split(b"\n"))
    sign = commits.DEFAULT_KEY if signed else None
    return commits.build(wt, tree, [parent], message, sign=sign, env=author)
