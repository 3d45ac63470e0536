"""`git wt gc`: remove worktrees nobody owns any more, and never lose a byte doing it.

A worktree is collected when its owner is provably dead, its lease expired (and its owner is
not provably alive here), or it was released as done. Before removal, uncommitted work and
unmerged commits go to a rescue ref; the branch is deleted only when its work is integrated
into the base. A worktree whose wt-commit lock is held (a commit in progress) or in which git
holds index.lock is skipped, untouched. Worktrees without a record are never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.core import events, faults
from worktree_tools.core.errors import LockTimeout, WtError
from worktree_tools.core.gitlocks import holders
from worktree_tools.core.locks import WORKTREE_LOCK, Holder, RecordedLock
from worktree_tools.env import budget, lifecycle
from worktree_tools.worktrees import gitinfo, lease, records, rescue
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.records import LeaseState, Record, RecordState

Say = Callable[[str], None]


@dataclass
class GcItem:
    agent: str
    path: str
    branch: str
    lease: str
    action: str  # removed, would-remove, kept, skipped
    reason: str
    rescue: str | None = None
    branch_action: str | None = None  # deleted, kept
    branch_oid: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class GcResult:
    dry_run: bool
    items: list[GcItem] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    @property
    def busy(self) -> list[GcItem]:
        return [i for i in self.items if i.action == "skipped"]

    @property
    def failed(self) -> list[GcItem]:
        return [i for i in self.items if i.action == "failed"]

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": "ok",
            "dry_run": self.dry_run,
            "worktrees": [i.to_json() for i in self.items],
            "pruned": self.pruned,
        }


def why_collectable(rec: Record, now: float) -> tuple[LeaseState, str | None]:
    """(lease state, reason to collect) — reason None means keep."""
    state = lease.state_of(rec, now)
    if state is LeaseState.OWNER_DEAD:
        return state, f"owner pid {rec.owner.pid} is dead"
    if state is LeaseState.EXPIRED:
        if lease.owner_alive(rec.owner):
            return state, None  # never reap a running agent: it may still write there
        return state, f"lease expired {now - lease.expires_at(rec):.0f}s ago"
    if state is LeaseState.RELEASED and rec.state is RecordState.DONE:
        return state, "released as done"
    return state, None


def _keep_reason(rec: Record, state: LeaseState) -> str:
    if state is LeaseState.EXPIRED:
        return f"lease expired but owner pid {rec.owner.pid} is alive on this host"
    if state is LeaseState.RELEASED:
        return f"released for {rec.state.value}: waiting to be adopted"
    return str(state.value)


def gc(
    repo: Repo, *, dry_run: bool = False, include_unmanaged: bool = False, say: Say | None = None
) -> GcResult:
    """Collect what can be collected; `say(line)` receives the undo hints for stderr.
    `include_unmanaged`: also worktrees git wt did not create (never locked ones)."""
    say = say or (lambda _line: None)
    recs, bad = records.load_all(repo.state_dir)
    if bad:
        raise bad[0]  # never guess about a record we cannot read
    result = GcResult(dry_run=dry_run)
    now = time.time()
    over = budget.select(repo, recs, {r.agent for r in recs if why_collectable(r, now)[1]}, now)
    for rec in recs:
        state, why = why_collectable(rec, now)
        why = why or over.get(rec.agent)
        item = GcItem(rec.agent, rec.path, rec.branch, state.value, "kept", why or "")
        result.items.append(item)
        if why is None:
            item.reason = _keep_reason(rec, state)
        elif dry_run:
            _plan(repo, rec, item)
        else:
            _collect(repo, rec, item, say)
    if include_unmanaged:
        from worktree_tools.worktrees.unmanaged import unmanaged_records

        for rec, locked in unmanaged_records(repo, {r.path for r in recs}):
            item = GcItem(rec.agent, rec.path, rec.branch, "unmanaged", "kept", "unmanaged")
            result.items.append(item)
            if locked is not None:
                item.reason = f"locked by someone else ({locked or 'no reason given'})"
            elif dry_run:
                _plan(repo, rec, item)
            else:
                item.reason = "unmanaged worktree, collected on request (--include-unmanaged)"
                _collect(repo, rec, item, say, managed=False)
    result.pruned = _prune(repo, dry_run)
    return result


def _plan(repo: Repo, rec: Record, item: GcItem) -> None:
    item.action = "would-remove"
    tree = repo.tree(rec)
    base = gitinfo.base_commit(repo.wt, rec.base, rec.base_oid)
    head = gitinfo.rev(tree, "HEAD") if Path(rec.path).exists() else None
    head = head or gitinfo.rev(repo.wt, f"refs/heads/{rec.branch}")
    dirt = gitinfo.dirt(tree) if Path(rec.path).exists() else None
    dirty = dirt is not None and dirt.dirty + dirt.untracked > 0
    unmerged = head is not None and not gitinfo.integrated(repo.wt, head, base)
    if dirty or unmerged:
        item.rescue = "(would rescue)"
    item.branch_action = "keep" if unmerged else "delete"


def _collect(repo: Repo, rec: Record, item: GcItem, say: Say, *, managed: bool = True) -> None:
    with repo.agent_lock(rec.agent):
        present = os.path.isdir(rec.path)
        # Lock only a live admin dir: RecordedLock would create a missing one, and git would
        # then see a broken worktree entry.
        lockable = present and os.path.isdir(rec.admin_dir)
        wlock = RecordedLock(
            Path(rec.admin_dir) / WORKTREE_LOCK,
            "worktree lock",
            Holder.me(repo.actor),
            time.monotonic(),  # never wait: an owner mid-commit is simply skipped
        )
        try:
            if lockable:
                wlock.__enter__()
        except LockTimeout:
            item.action, item.reason = "skipped", "a wt-commit is in progress in it"
            return
        try:
            _collect_locked(repo, rec, item, say, present, managed)
        except _NotRemoved as err:
            item.action, item.reason = "failed", str(err)
            say(f"wt: kept {rec.path} of {rec.agent}: {err}")
        finally:
            if lockable:
                # its directory may be gone with the worktree
                with contextlib.suppress(OSError):
                    wlock.__exit__(None, None, None)


class _NotRemoved(Exception):
    """This worktree cannot be collected safely; it is left as it was."""


def _collect_locked(
    repo: Repo, rec: Record, item: GcItem, say: Say, present: bool, managed: bool
) -> None:
    # Check, lock, check again: the owner may have renewed or reactivated meanwhile.
    with repo.repo_lock():
        fresh = records.load(repo.state_dir, rec.agent) if managed else rec
    if fresh is None or fresh != rec:
        item.action, item.reason = "kept", "its record changed while gc ran"
        return
    tree = repo.tree(rec)
    if present:
        held, who = holders(tree.gitdir / "index.lock", [tree.toplevel, tree.gitdir])
        if held:
            item.action, item.reason = "skipped", f"git is running in it ({who})"
            return
    base = gitinfo.base_commit(repo.wt, rec.base, rec.base_oid)
    tip = gitinfo.rev(repo.wt, f"refs/heads/{rec.branch}")
    if present:
        try:
            cap = rescue.capture(repo, tree)
        except WtError as err:  # an unreadable file, say: then it cannot be saved
            raise _NotRemoved(f"its work could not be saved: {err.message}") from None
        nested = rescue.nested_repositories(repo, cap)
        if nested:
            raise _NotRemoved(
                "it holds a nested git repository whose content a rescue cannot keep: "
                + ", ".join(nested[:5])
                + " (move it out or commit it, then run gc again)"
            )
    elif tip is not None:
        tip_tree = repo.wt.git(["rev-parse", f"{tip}^{{tree}}"]).out.strip()
        cap = rescue.Capture(tip, tip_tree, tip_tree, tip_tree, False)
        item.notes.append("its directory was removed by hand: only its commits could be saved")
    else:
        cap = None
    if cap is not None:
        _rescue_if_needed(repo, rec, item, cap, base, say)
        # An owner not proven dead (another host, an expired lease) may still be writing:
        # look again, and save again whatever changed, until two looks agree.
        looks = 3 if present and item.lease != LeaseState.OWNER_DEAD.value else 0
        for _ in range(looks):
            again = rescue.capture(repo, tree)
            if again == cap:
                break
            item.notes.append("the worktree changed while gc saved it: saved again")
            cap = again
            _rescue_if_needed(repo, rec, item, cap, base, say)
        else:
            if looks:
                raise _NotRemoved(
                    "it kept changing while gc saved it (its owner may still be writing); "
                    "what was saved stays under its rescue refs"
                )
    if present:
        left_out = gitinfo.ignored(tree)
        if left_out:
            item.notes.append(f"ignored paths not saved: {', '.join(left_out[:20])}")
            say(
                f"wt: not saved (ignored by .gitignore): {len(left_out)} path(s) in {rec.path}: "
                + ", ".join(left_out[:5])
                + (" ..." if len(left_out) > 5 else "")
            )
    faults.point("wt-gc-rescued")
    if present and managed:  # after the work is saved: a failing teardown cannot stop that
        torn = lifecycle.teardown(repo, rec)
        if torn.message():
            item.notes.append(str(torn.message()))
            say(f"wt: {rec.agent}: {torn.message()}")
    _remove(repo, rec, present, managed, cap)
    faults.point("wt-gc-removed")
    item.action = "removed"
    say(f"wt: removed worktree {rec.path} of {rec.agent} ({item.reason})")
    _settle_branch(repo, rec, item, base, say)
    with repo.repo_lock():
        handoff = records.load_handoff(repo.state_dir, rec.agent) if managed else None
        if managed:
            records.delete(repo.state_dir, rec.agent)
        events.append(
            repo.state_dir,
            "gc_remove",
            rec.agent,
            outcome="removed",
            why=item.reason,
            reason=item.reason,
            rescue=item.rescue,
            branch=rec.branch,
            branch_action=item.branch_action,
            branch_oid=item.branch_oid,
            record=rec.to_json() if managed else None,
            managed=managed,
            path=rec.path,
            handoff=handoff.to_json() if handoff else None,
        )


def _rescue_if_needed(
    repo: Repo, rec: Record, item: GcItem, cap: rescue.Capture, base: str, say: Say
) -> None:
    unmerged = not gitinfo.integrated(repo.wt, cap.head, base)
    if not (cap.dirty or unmerged):
        return
    meta = {
        "reason": item.reason,
        "path": rec.path,
        "branch": rec.branch,
        "base": rec.base,
        "task": rec.task,
        "uncommitted": cap.dirty,
        "unmerged": unmerged,
    }
    try:
        saved = rescue.save(repo, cap, rec.agent, meta)
    except WtError as err:
        raise _NotRemoved(f"its work could not be saved: {err.message}") from None
    item.rescue = saved.id
    what = " and ".join(
        w for w, on in (("uncommitted changes", cap.dirty), ("unmerged commits", unmerged)) if on
    )
    say(
        f"wt: rescued {rec.agent}'s work ({what}) as {saved.ref}; "
        f"restore with: git wt rescue restore {saved.id}"
    )


def _remove(
    repo: Repo, rec: Record, present: bool, managed: bool, saved: rescue.Capture | None
) -> None:
    """Remove the worktree without ever deleting bytes that were not saved.

    The directory is first renamed aside (atomic; a writer using its path now fails instead of
    writing into a directory about to vanish), captured once more and compared with what was
    saved; only then is it deleted and git's registry pruned. If it differs, it is renamed back.
    (`git worktree remove --force` is not atomic: it deletes files, then may fail.)"""
    with repo.admin_lock():
        if present:
            path = Path(rec.path)
            aside = path.with_name(f".{path.name}.wt-gc-{os.getpid()}")
            os.rename(path, aside)
            moved = repo.tree(rec)
            moved = type(moved)(aside, moved.gitdir, moved.commondir, moved.hooks_dir)
            try:
                now = rescue.capture(repo, moved) if saved is not None else None
            except WtError:
                now = None
            if saved is not None and now != saved:
                os.rename(aside, path)
                raise _NotRemoved("it changed while gc removed it; put back as it was")
            repo.wt.git(["worktree", "unlock", rec.path], check=False)
            shutil.rmtree(aside)
        else:
            repo.wt.git(["worktree", "unlock", rec.path], check=False)
        repo.wt.git(["worktree", "prune"], check=False)


def _settle_branch(repo: Repo, rec: Record, item: GcItem, base: str, say: Say) -> None:
    if not rec.branch:
        return  # a detached HEAD: the rescue holds it
    ref = f"refs/heads/{rec.branch}"
    tip = gitinfo.rev(repo.wt, ref)
    item.branch_oid = tip
    if tip is None:
        return
    with repo.admin_lock():
        used = any(w.branch == rec.branch for w in gitinfo.worktree_list(repo.wt))
    if used or not gitinfo.integrated(repo.wt, tip, base):
        item.branch_action = "kept"
        if not used:
            say(f"wt: kept branch {rec.branch} ({tip[:12]}): its work is not in {rec.base}")
        return
    from worktree_tools.guard import permit

    with permit.granted(repo.wt):  # gc's own deletion: the guard lets it pass
        res = repo.wt.git(
            ["update-ref", "-m", f"git wt gc ({rec.agent}): integrated", "-d", ref, tip],
            check=False,
        )
    if res.returncode == 0:
        item.branch_action = "deleted"
        say(
            f"wt: deleted branch {rec.branch} (was {tip[:12]}; its work is in {rec.base}); "
            f"undo with: git branch {rec.branch} {tip}"
        )
    else:
        item.branch_action = "kept"


def _prune(repo: Repo, dry_run: bool) -> list[str]:
    """Drop git's registry entries of directories removed by hand (unlocked ones: ours are
    locked and were handled above)."""
    with repo.admin_lock():
        res = repo.wt.git(["worktree", "prune", "-v", *(["-n"] if dry_run else [])], check=False)
    return [line for line in (res.out + res.err).splitlines() if line.strip()]
