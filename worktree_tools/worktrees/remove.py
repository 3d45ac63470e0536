"""Taking a worktree's directory away without deleting a byte that was not saved.

The directory is renamed aside (one atomic step, marked first: see leftovers.py), then checked:
no live process may have its working directory or an open file in it (renaming does not stop a
writer that is inside), and its content must still be what the rescue saved. Then each file is
deleted only if its bytes are what was saved; whatever a late writer put there is saved in a
further rescue first, and what keeps changing is left in place, reported, never deleted.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from worktree_tools.core import events, faults, statefiles
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.procs import ProcRef, processes_in
from worktree_tools.core.repo import Worktree
from worktree_tools.worktrees import gitinfo, leftovers, location, rescue, snapshot
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.gcaction import GcAction
from worktree_tools.worktrees.leftovers import Marker

Say = Callable[[str], None]
_DRAIN_ROUNDS = 3


class NotRemoved(Exception):
    """This directory cannot be removed safely; it is left as it was (or where it is)."""


class Busy(NotRemoved):
    """A live process works inside: retry when it has finished."""


def users_text(users: list[ProcRef]) -> str:
    shown = ", ".join(u.describe() for u in users[:3])
    return f"{'a process is' if len(users) == 1 else 'processes are'} working in it: {shown}"


def check_unused(path: Path) -> None:
    users = processes_in(path)
    if users:
        raise Busy(users_text(users))


def take_away(
    repo: Repo, tree: Worktree, agent: str, saved: rescue.Capture | None, say: Say
) -> list[str]:
    """Rename `tree` aside and delete what was saved of it (the caller holds the admin lock
    and has proven the directory is this worktree). Returns what had to be left behind."""
    path = tree.toplevel
    check_unused(path)
    aside = leftovers.aside_path(path)
    marker = Marker.new(
        aside, path, agent, os.fspath(tree.gitdir),
        head=saved.head if saved else None,
        saved_tree=saved.work_tree if saved else None,
    )  # fmt: skip
    leftovers.write(repo.state_dir, marker)
    faults.point("wt-gc-renaming")
    os.rename(path, aside)
    faults.point("wt-gc-aside")
    moved = Worktree(aside, tree.gitdir, tree.commondir, tree.hooks_dir)
    try:
        check_unused(aside)
        now = rescue.capture(repo, moved) if saved is not None else None
        if saved is not None and not saved.same_work(now):
            raise NotRemoved("it changed while gc removed it; put back as it was")
    except Exception as err:
        if _put_back(repo, marker):
            if isinstance(err, NotRemoved):
                raise
            raise NotRemoved(f"it could not be checked ({err}); put back as it was") from None
        raise NotRemoved(
            f"{err}; it could not be put back ({path} exists again): it is at {aside}"
        ) from None
    leftovers.write(repo.state_dir, marker := marker.with_phase("deleting"))
    expected = snapshot.tree_entries(repo.wt, saved.work_tree) if saved else {}
    discarded = saved.discarded if saved else ()
    return drain(repo, marker, expected, discarded, say)


def _put_back(repo: Repo, marker: Marker) -> bool:
    try:
        os.rename(marker.aside, marker.path)  # fails when something now exists there
    except OSError:
        return False
    leftovers.clear(repo.state_dir, marker)
    return True


def drain(
    repo: Repo,
    marker: Marker,
    expected: dict[str, snapshot.Entry],
    discarded: tuple[str, ...],
    say: Say,
) -> list[str]:
    """Delete the aside directory's files whose bytes are in `expected` (or regenerable);
    save what else is there in a rescue and delete it the same way, a few rounds. Returns
    what is left (the directory and its marker then stay, to be reported)."""
    aside = Path(marker.aside)
    hasher = snapshot.Hasher(repo.wt)
    left: list[str] = []
    for _ in range(_DRAIN_ROUNDS):
        users = processes_in(aside)
        if users:
            left = [users_text(users)]
            break
        left = delete_verified(aside, expected, discarded, hasher)
        if not os.path.lexists(aside):
            leftovers.clear(repo.state_dir, marker)
            return []
        late = _save_rest(repo, marker, say)
        if late is None:
            break
        expected, discarded = late
    say(
        f"wt: left {aside} in place ({len(left)} path(s) still changing or unreadable); "
        "run git wt gc again once nothing writes there"
    )
    return left


def _save_rest(
    repo: Repo, marker: Marker, say: Say
) -> tuple[dict[str, snapshot.Entry], tuple[str, ...]] | None:
    """Save every file still in the aside directory in a rescue; its entries and the
    regenerable paths left out, or None when nothing could be read."""
    aside = Path(marker.aside)
    scratch = repo.state_dir / statefiles.STATE_TMP / f"drain-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        empty = scratch / "empty-index"
        empty.unlink(missing_ok=True)
        base = Worktree(aside, repo.commondir, repo.commondir, repo.wt.hooks_dir)
        repo.wt.git(["read-tree", "--empty"], index=empty)
        listing = snapshot.list_paths(base, empty)
        hasher = snapshot.Hasher(repo.wt, scratch)
        try:
            entries = snapshot.read_entries(aside, listing, hasher)
            hasher.flush()
        finally:
            hasher.close()
        if not entries:
            return ({}, listing.discarded) if listing.discarded else None
        tree = snapshot.tree_of(repo.wt, scratch, entries, write=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    head = marker.head or repo.wt.git(["rev-parse", "HEAD"]).out.strip()
    head_tree = repo.wt.git(["rev-parse", f"{head}^{{tree}}"]).out.strip()
    cap = rescue.Capture(head, head_tree, head_tree, tree, False, changed=True)
    meta = {
        "reason": f"left in {aside} by gc pid {marker.pid}",
        "worktree": marker.path,
        "branch": None,
        "uncommitted": True,
        "unmerged": False,
        "leftover": True,
    }
    saved = rescue.save(repo, cap, marker.agent, meta)
    say(
        f"wt: saved what was written into {aside} as {saved.ref}; "
        f"restore with: git wt rescue restore {saved.id}"
    )
    return {e.path: e for e in entries}, listing.discarded


def sweep(repo: Repo, near: list[Path], say: Say) -> list[tuple[leftovers.Leftover, GcAction, str]]:
    """Deal with what killed gc runs left: put a directory back where its worktree was (when
    nothing else took that place), else save and remove its content. Returns (leftover,
    action, reason) for each."""
    done: list[tuple[leftovers.Leftover, GcAction, str]] = []
    with repo.admin_lock():
        registered = {os.path.realpath(e.path) for e in gitinfo.worktree_list(repo.wt)}
    for lo in leftovers.find(repo.state_dir, near):
        if os.path.realpath(lo.aside) in registered:
            continue  # a worktree git knows, whatever its name: never a leftover
        marker = lo.marker or Marker(
            os.fspath(lo.aside), os.fspath(lo.path), lo.agent or "unknown", None, lo.pid,
            None, "", "deleting",
        )  # fmt: skip
        agent = marker.agent if marker.agent != "unknown" else "gc-leftover"
        with repo.agent_lock(agent), repo.admin_lock():
            if not os.path.lexists(lo.aside):
                continue
            why = f"left aside by gc pid {lo.pid}, which did not finish"
            if marker.phase == "aside" and _put_back(repo, marker):
                say(f"wt: put {lo.path} back where it was ({why})")
                done.append((lo, GcAction.RESTORED, why))
                _log(repo, agent, lo, GcAction.RESTORED, why)
                continue
            expected: dict[str, snapshot.Entry] = {}
            if marker.saved_tree:
                expected = snapshot.tree_entries(repo.wt, marker.saved_tree)
            if lo.marker is None:
                leftovers.write(repo.state_dir, marker)
            left = drain(repo, marker, expected, (), say)
            if left:
                why = f"{why}; still changing: {', '.join(left[:5])}"
            action = GcAction.FAILED if left else GcAction.REMOVED
            done.append((lo, action, why))
            _log(repo, agent, lo, action, why)
    return done


def _log(repo: Repo, agent: str, lo: leftovers.Leftover, outcome: GcAction, why: str) -> None:
    events.append(
        repo.state_dir, "gc_leftover", agent, outcome=outcome.value, reason=why,
        aside=os.fspath(lo.aside), worktree=os.fspath(lo.path), gc_pid=lo.pid,
    )  # fmt: skip


def remove_admin(repo: Repo, admin: Path) -> None:
    """Drop a gone worktree's git admin dir (index, HEAD, locks): renamed aside first, so a
    crash never leaves half of one. The caller has proven no directory uses it."""
    if not admin.is_dir() or admin.parent != repo.commondir / statefiles.GIT_WORKTREES:
        return
    trash = leftovers.aside_path(admin)
    os.rename(admin, trash)
    shutil.rmtree(trash, ignore_errors=True)


def prune(repo: Repo, dry_run: bool, say: Say) -> tuple[list[str], list[dict[str, str | None]]]:
    """`git worktree prune`, except for worktrees moved by hand: those are repaired when found
    near their old place, else locked through the prune (their files still exist)."""
    moved: list[dict[str, str | None]] = []
    protect: list[Path] = []
    root = repo.commondir / statefiles.GIT_WORKTREES
    admins = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for admin in admins:
        try:
            recorded = (admin / "gitdir").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        old = Path(recorded).parent
        if (admin / "locked").exists() or os.path.exists(recorded):
            continue
        found = location.moved_to(admin, old)
        if found is None and not location.still_linked(admin):
            continue
        moved.append({"worktree": os.fspath(old), "moved_to": os.fspath(found) if found else None})
        if dry_run:
            continue
        if found is not None:
            repo.wt.git(["worktree", "repair", os.fspath(found)], check=False)
            say(f"wt: {old} was moved by hand to {found}; repaired git's registry")
        else:
            protect.append(admin)
            say(
                f"wt: {old} was moved by hand (its files still exist elsewhere); kept its git "
                f"admin dir {admin}: run `git worktree repair` inside it"
            )
    for admin in protect:
        (admin / "locked").write_text("git wt gc: moved by hand, its files still exist\n")
    try:
        res = repo.wt.git(["worktree", "prune", "-v", *(["-n"] if dry_run else [])], check=False)
    finally:
        for admin in protect:
            (admin / "locked").unlink(missing_ok=True)
    lines = [line for line in (res.out + res.err).splitlines() if line.strip()]
    return lines, moved


def delete_verified(
    root: Path,
    saved: dict[str, snapshot.Entry],
    discarded: tuple[str, ...],
    hasher: snapshot.Hasher,
) -> list[str]:
    """Delete from `root` each file whose bytes and mode are what `saved` holds (and the
    regenerable `discarded` entries); keep everything else. Returns what is left."""
    exact = set(discarded)
    left: list[str] = []
    deleted = 0

    def gone(rel: str) -> bool:
        return rel in exact or _under(rel, exact)

    def visit(rel: str) -> bool:
        """Empty `rel` (a directory); True when it could be removed."""
        nonlocal deleted
        full = root / rel if rel else root
        try:
            with os.scandir(full) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError:
            left.append(rel or ".")
            return False
        empty = True
        dotgit = None
        for item in items:
            sub = f"{rel}/{item.name}" if rel else item.name
            if not rel and item.name == ".git":
                dotgit = item
                continue
            if item.is_dir(follow_symlinks=False):
                known = saved.get(sub)
                if known is not None and known.mode == snapshot.GITLINK:
                    # a submodule proven clean, its objects in the superproject's modules/
                    shutil.rmtree(os.path.join(full, item.name), ignore_errors=True)
                    if os.path.lexists(os.path.join(full, item.name)):
                        left.append(sub)
                        empty = False
                    continue
                if not visit(sub):
                    empty = False
                continue
            if gone(sub) or _special(item):  # regenerable by design, or holds no bytes
                os.unlink(os.path.join(full, item.name))
                continue
            expected = saved.get(sub)
            parent_fd = os.open(full, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            try:
                try:
                    found = snapshot.read_file(parent_fd, item.name)
                except InvalidInput:
                    found = None  # unreadable: cannot be proven saved, so it stays
                same = (
                    found is not None
                    and expected is not None
                    and expected.mode == found[0]
                    and expected.oid == hasher.blob(found[1])
                )
                if same:
                    os.unlink(item.name, dir_fd=parent_fd)
                    deleted += 1
                    if deleted == 1:
                        faults.point("wt-gc-deleting")
                else:
                    left.append(sub)
                    empty = False
            finally:
                os.close(parent_fd)
        if dotgit is not None:
            if empty:
                os.unlink(dotgit.path)
            else:
                left.append(".git")
        if empty:
            try:
                os.rmdir(full)
            except OSError:
                left.append(rel or ".")
                return False
        return empty

    visit("")
    return left


def _special(item: os.DirEntry[str]) -> bool:
    """A fifo, socket or device node: nothing a rescue could hold, nothing lost."""
    try:
        mode = item.stat(follow_symlinks=False).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISLNK(mode) or stat.S_ISDIR(mode))


def _under(rel: str, dirs: set[str]) -> bool:
    return any(d.endswith("/") and rel.startswith(d) for d in dirs)
