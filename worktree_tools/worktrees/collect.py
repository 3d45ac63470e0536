"""Collecting one worktree for gc: prove it is the record's, save its work (rescue), take
its directory away (remove.py), drop its admin dir, settle its branch, log the event."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.core import events, faults, refs
from worktree_tools.core.errors import LockTimeout, WtError
from worktree_tools.core.gitlocks import holders
from worktree_tools.core.locks import WORKTREE_LOCK, Holder, RecordedLock
from worktree_tools.core.repo import Worktree
from worktree_tools.worktrees import gitinfo, location, records, remove, rescue
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.gcaction import BranchAction, GcAction
from worktree_tools.worktrees.location import Presence
from worktree_tools.worktrees.records import LeaseState, Record

Say = Callable[[str], None]


@dataclass
class GcItem:
    agent: str
    path: str  # the worktree (for a gc leftover: the directory it was set aside as)
    branch: str | None  # None: a leftover, whose branch gc does not know
    lease: str
    action: GcAction
    reason: str
    rescue: str | None = None
    branch_action: BranchAction | None = None
    branch_oid: str | None = None
    notes: list[str] = field(default_factory=list)
    moved_to: str | None = None
    left_behind: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "path"}
        data["action"] = self.action.value
        data["branch_action"] = self.branch_action.value if self.branch_action else None
        return {"agent": self.agent, "worktree": self.path, **data}


def main_toplevel(repo: Repo) -> Path:
    common = repo.commondir
    return common.parent if common.name == ".git" else common


def collect(
    repo: Repo, rec: Record, item: GcItem, say: Say, *, managed: bool = True, main: Path
) -> None:
    with repo.agent_lock(rec.agent):
        where = location.locate(rec, managed=managed, main=main)
        present = where.presence is Presence.HERE
        # Lock only our own live admin dir: RecordedLock would create a missing one, and git
        # would then see a broken worktree entry; another worktree's is not ours to take.
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
            item.action, item.reason = GcAction.SKIPPED, "a wt-commit is in progress in it"
            return
        try:
            _collect_locked(repo, rec, item, say, where, managed)
        except remove.Busy as err:
            item.action, item.reason = GcAction.SKIPPED, str(err)
        except remove.NotRemoved as err:
            item.action, item.reason = GcAction.FAILED, str(err)
            say(f"wt: kept {rec.path} of {rec.agent}: {err}")
        finally:
            if lockable:
                # its directory may be gone with the worktree
                with contextlib.suppress(OSError):
                    wlock.__exit__(None, None, None)


def _admin_capture(
    repo: Repo, rec: Record, tip: str | None, managed: bool
) -> rescue.Capture | None:
    """What is left of a worktree whose directory is gone: its HEAD (a detached one too) and
    its staged index, read from its admin dir when that is still its own."""
    admin = Path(rec.admin_dir)
    head = tip
    index_tree = None
    if location.admin_is_own(admin, rec, managed):
        env_tree = Worktree(repo.commondir, admin, repo.commondir, repo.wt.hooks_dir)
        head = gitinfo.rev(env_tree, "HEAD") or tip
        if (admin / "index").exists():
            res = env_tree.git(["write-tree"], check=False)
            index_tree = res.out.strip() if res.returncode == 0 else None
    if head is None:
        return None
    head_tree = repo.wt.git(["rev-parse", f"{head}^{{tree}}"]).out.strip()
    return rescue.Capture(head, head_tree, index_tree or head_tree, head_tree, False)


def _collect_locked(
    repo: Repo, rec: Record, item: GcItem, say: Say, where: location.Where, managed: bool
) -> None:
    # Check, lock, check again: the owner may have renewed or reactivated meanwhile.
    with repo.repo_lock():
        fresh = records.load(repo.state_dir, rec.agent) if managed else rec
    if fresh is None or fresh != rec:
        item.action, item.reason = GcAction.KEPT, "its record changed while gc ran"
        return
    present = where.presence is Presence.HERE
    tree = repo.tree(rec)
    if present:
        held, who = holders(tree.gitdir / "index.lock", [tree.toplevel, tree.gitdir])
        if held:
            item.action, item.reason = GcAction.SKIPPED, f"git is running in it ({who})"
            return
        remove.check_unused(tree.toplevel)
    base = gitinfo.base_commit(repo.wt, rec.base, rec.base_oid)
    tip = gitinfo.rev(repo.wt, f"refs/heads/{rec.branch}") if rec.branch else None
    cap: rescue.Capture | None
    if present:
        try:
            cap = rescue.capture(repo, tree)
        except WtError as err:  # an unreadable file, say: then it cannot be saved
            raise remove.NotRemoved(f"its work could not be saved: {err.message}") from None
        nested = rescue.nested_repositories(repo, cap)
        if nested:
            raise remove.NotRemoved(
                "it holds a nested git repository whose content a rescue cannot keep: "
                + ", ".join(nested[:5])
                + " (move it out or commit it, then run gc again)"
            )
    else:
        cap = _admin_capture(repo, rec, tip, managed)
        if where.presence is Presence.FOREIGN:
            item.notes.append(
                f"its path is no longer its worktree ({where.detail}): left alone; "
                "only its commits and staged index could be saved"
            )
        elif cap is not None:
            item.notes.append(
                "its directory was removed by hand: only its commits and staged index "
                "could be saved"
            )
    if cap is not None:
        _rescue_if_needed(repo, rec, item, cap, base, say)
        # An owner not proven dead (another host, an expired lease) may still be writing:
        # look again, and save again whatever changed, until two looks agree.
        looks = 3 if present and item.lease != LeaseState.OWNER_DEAD.value else 0
        for _ in range(looks):
            again = rescue.capture(repo, tree)
            if cap.same_work(again):
                break
            item.notes.append("the worktree changed while gc saved it: saved again")
            cap = again
            _rescue_if_needed(repo, rec, item, cap, base, say)
        else:
            if looks:
                raise remove.NotRemoved(
                    "it kept changing while gc saved it (its owner may still be writing); "
                    "what was saved stays under its rescue refs"
                )
    if present and cap is not None and cap.discarded:
        left_out = list(cap.discarded)
        item.notes.append(f"regenerable ignored paths not saved: {', '.join(left_out[:20])}")
        say(
            f"wt: not saved (ignored by .gitignore and regenerable, wt.rescueDiscard): "
            f"{len(left_out)} path(s) in {rec.path}: "
            + ", ".join(left_out[:5])
            + (" ..." if len(left_out) > 5 else "")
        )
    faults.point("wt-gc-rescued")
    if present and managed:  # after the work is saved: a failing teardown cannot stop that
        from worktree_tools.env import lifecycle

        torn = lifecycle.teardown(repo, rec)
        if torn.message():
            item.notes.append(str(torn.message()))
            say(f"wt: {rec.agent}: {torn.message()}")
    _remove(repo, rec, item, present, managed, cap, say)
    faults.point("wt-gc-removed")
    item.action = GcAction.REMOVED
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
            record=rec.output() if managed else None,
            managed=managed,
            worktree=rec.path,
            left_behind=item.left_behind,
            handoff=handoff.output() if handoff else None,
        )


def _rescue_if_needed(
    repo: Repo, rec: Record, item: GcItem, cap: rescue.Capture, base: str, say: Say
) -> None:
    unmerged = not gitinfo.integrated(repo.wt, cap.head, base)
    if not (cap.dirty or unmerged):
        return
    meta = {
        "reason": item.reason,
        "worktree": rec.path,
        "branch": rec.branch,
        "base": rec.base,
        "task": rec.task,
        "uncommitted": cap.dirty,
        "unmerged": unmerged,
    }
    try:
        saved = rescue.save(repo, cap, rec.agent, meta)
    except WtError as err:
        raise remove.NotRemoved(f"its work could not be saved: {err.message}") from None
    item.rescue = saved.id
    what = " and ".join(
        w for w, on in (("uncommitted changes", cap.dirty), ("unmerged commits", unmerged)) if on
    )
    say(
        f"wt: rescued {rec.agent}'s work ({what}) as {saved.ref}; "
        f"restore with: git wt rescue restore {saved.id}"
    )


def _remove(
    repo: Repo,
    rec: Record,
    item: GcItem,
    present: bool,
    managed: bool,
    saved: rescue.Capture | None,
    say: Say,
) -> None:
    """Take the directory away (remove.take_away: nothing unsaved is deleted), then its git
    admin dir, but only one that is still this worktree's."""
    admin = Path(rec.admin_dir)
    with repo.admin_lock():
        where = location.locate(rec, managed=managed, main=main_toplevel(repo))
        if present:
            if where.presence is not Presence.HERE:
                raise remove.NotRemoved(f"it is no longer this worktree ({where.detail})")
            item.left_behind = remove.take_away(repo, repo.tree(rec), rec.agent, saved, say)
            if item.left_behind:
                item.notes.append(
                    f"left in place, still changing: {', '.join(item.left_behind[:5])}"
                )
            remove.remove_admin(repo, admin)
        elif where.presence in (Presence.GONE, Presence.FOREIGN):
            used_by_path = gitinfo.admin_dir_of(Path(rec.path))
            if (
                admin.is_dir()
                and location.admin_is_own(admin, rec, managed)
                and (
                    used_by_path is None
                    or os.path.realpath(used_by_path) != os.path.realpath(admin)
                )
            ):
                remove.remove_admin(repo, admin)


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
        item.branch_action = BranchAction.KEPT
        if not used:
            say(f"wt: kept branch {rec.branch} ({tip[:12]}): its work is not in {rec.base}")
        return
    try:
        refs.move(repo.wt, ref, None, tip, refs.reflog("git wt gc", rec.agent, "integrated"))
        deleted = True
    except WtError:
        deleted = False
    if deleted:
        item.branch_action = BranchAction.DELETED
        say(
            f"wt: deleted branch {rec.branch} (was {tip[:12]}; its work is in {rec.base}); "
            f"undo with: git branch {rec.branch} {tip}"
        )
    else:
        item.branch_action = BranchAction.KEPT
