"""`git wt move AGENT [DIR]`: relocate an agent's worktree (git's registry, the record and the
lock together), for instance out of the old default inside `.git`.

Crash safety: the destination is written to `move.json` beside the record first; `git worktree
move` then renames the directory and rewrites git's pointers; the record follows. Whoever finds
the intent later (the next `move`, or `alloc` of the same agent) finishes or drops it by
looking where the directory actually is, so a SIGKILL at any point leaves a worktree that
`git wt` still finds.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core import events, faults
from worktree_tools.core.agent import check_name
from worktree_tools.core.errors import InvalidInput, LockTimeout, Rejected
from worktree_tools.core.gitlocks import holders
from worktree_tools.core.locks import WORKTREE_LOCK, Holder, RecordedLock
from worktree_tools.core.statefiles import MOVE_INTENT as INTENT
from worktree_tools.worktrees import gitinfo, lease, placement, records
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.records import LeaseState, Record


@dataclass(frozen=True)
class MoveResult:
    record: Record
    source: str
    moved: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "outcome": "ok" if self.moved else "unchanged",
            "agent": self.record.agent,
            "worktree": self.record.path,
            "previous_worktree": self.source,
            "branch": self.record.branch,
        }


def _intent_path(repo: Repo, agent: str) -> Path:
    return records.agent_dir(repo.state_dir, agent) / INTENT


def _points_back(path: Path, admin: Path) -> bool:
    found = gitinfo.admin_dir_of(path)
    return found is not None and os.path.realpath(found) == os.path.realpath(admin)


def _git_sees(admin: Path) -> Path | None:
    """The worktree directory git's registry names for this admin dir."""
    try:
        text = (admin / "gitdir").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return Path(os.path.normpath(text)).parent if text else None


def reconcile(repo: Repo, rec: Record) -> Record:
    """Finish or drop an interrupted move, and follow a `git worktree move` done by hand.
    The caller holds the agent's lock."""
    admin = Path(rec.admin_dir)
    intent = _intent_path(repo, rec.agent)
    target: Path | None = None
    try:
        raw = json.loads(intent.read_text(encoding="utf-8"))
        if isinstance(raw, dict) and isinstance(raw.get("to"), str):
            target = Path(raw["to"])
    except (OSError, ValueError):
        target = None
    if target is not None and not Path(rec.path).exists() and _points_back(target, admin):
        if _git_sees(admin) != target:  # renamed, git's pointer not yet rewritten
            repo.wt.git(["worktree", "repair", os.fspath(target)], check=False)
    elif target is None and not Path(rec.path).exists():
        seen = _git_sees(admin)
        target = seen if seen is not None and _points_back(seen, admin) else None
    if target is not None and not Path(rec.path).exists() and _points_back(target, admin):
        rec = _save_path(repo, rec, target, outcome="recovered")
    with contextlib.suppress(FileNotFoundError):
        intent.unlink()
    return rec


def _save_path(repo: Repo, rec: Record, target: Path, *, outcome: str) -> Record:
    with repo.repo_lock():
        new = records.require(repo.state_dir, rec.agent).with_changes(path=os.fspath(target))
        records.save(repo.state_dir, new)
        events.append(
            repo.state_dir,
            "move",
            rec.agent,
            outcome=outcome,
            branch=rec.branch,
            worktree=new.path,
            previous_worktree=rec.path,
        )
    return new


def _destination(repo: Repo, rec: Record, raw: str | None, cwd: Path) -> Path:
    if raw is None:
        return repo.placement() / rec.agent
    path = Path(os.path.normpath(cwd / os.path.expanduser(raw)))
    if path.is_dir() and not path.is_symlink() and path != Path(rec.path):
        path = path / Path(rec.path).name  # as `git worktree move`: into an existing directory
    return path


def move(repo: Repo, agent: str, raw: str | None, cwd: Path, *, force: bool = False) -> MoveResult:
    """Move AGENT's worktree to `raw` (default: the configured placement). Bad input and live
    owners are refused before any change."""
    agent = check_name(agent)
    with repo.agent_lock(agent):
        with repo.repo_lock():
            rec = records.require(repo.state_dir, agent)
        rec = reconcile(repo, rec)
        source = rec.path
        dest = _destination(repo, rec, raw, cwd)
        if os.path.normpath(dest) == os.path.normpath(source):
            return MoveResult(rec, source, moved=False)
        _check(repo, rec, dest, force)
        admin = Path(rec.admin_dir)
        wlock = RecordedLock(
            admin / WORKTREE_LOCK, "worktree lock", Holder.me(repo.actor), repo.deadline()
        )
        with wlock:  # waits for a wt-commit in progress there to finish
            held, who = holders(admin / "index.lock", [Path(source), admin])
            if held:
                raise LockTimeout(
                    f"git is running in {source} ({who}); nothing was moved",
                    fix=f"retry git wt move {agent} when it has finished",
                )
            dest.parent.mkdir(parents=True, exist_ok=True)
            records.atomic_write_json(
                _intent_path(repo, agent), {"from": source, "to": os.fspath(dest)}
            )
            faults.point("wt-move-intent")
            with repo.admin_lock():
                # Twice forced: git refuses to move a locked worktree otherwise; the lock (and
                # its reason) lives in the admin dir, which does not move.
                res = repo.wt.git(
                    ["worktree", "move", "-f", "-f", source, os.fspath(dest)], check=False
                )
            if res.returncode != 0:
                with contextlib.suppress(FileNotFoundError):
                    _intent_path(repo, agent).unlink()
                raise Rejected(
                    f"git worktree move refused: {res.err.strip()}; nothing was moved",
                    fix="git wt move AGENT DIR with DIR on the same filesystem and not existing",
                )
            faults.point("wt-move-moved")
            _keep_lock(repo, rec, dest)
            rec = _save_path(repo, rec, dest, outcome="moved")
            with contextlib.suppress(FileNotFoundError):
                _intent_path(repo, agent).unlink()
    return MoveResult(rec, source, moved=True)


def _check(repo: Repo, rec: Record, dest: Path, force: bool) -> None:
    why = placement.inside_git_dir(dest, repo.commondir)
    if why is not None:
        raise InvalidInput(
            f"{dest} is {why}: tools that skip .git directories would find nothing there; "
            "nothing was moved",
            fix=f"git wt move {rec.agent} (to {repo.placement() / rec.agent})",
        )
    if os.path.lexists(dest):
        raise InvalidInput(f"{dest} already exists; nothing was moved", fix="choose another DIR")
    if not Path(rec.path).is_dir() or gitinfo.admin_dir_of(Path(rec.path)) is None:
        raise InvalidInput(
            f"{rec.agent!r}'s worktree {rec.path} is missing; nothing was moved",
            fix="git wt gc (keeps its branch and rescues its commits), then alloc again",
        )
    state = lease.state_of(rec)
    if state is LeaseState.ACTIVE and lease.owner_alive(rec.owner) and not force:
        raise Rejected(
            f"{rec.agent!r} is working in {rec.path} (owner pid {rec.owner.pid} is alive); "
            "moving it would pull the directory from under its processes; nothing was moved",
            fix=f"git wt move {rec.agent} --force (once the agent is idle), or release it first",
        )


def _keep_lock(repo: Repo, rec: Record, dest: Path) -> None:
    from worktree_tools.worktrees.alloc import lock_reason

    if not (Path(rec.admin_dir) / "locked").exists():
        with repo.admin_lock():
            repo.wt.git(["worktree", "lock", "--reason", lock_reason(rec.agent), os.fspath(dest)])
