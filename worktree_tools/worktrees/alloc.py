"""`git wt alloc`: give an agent its own worktree and branch, or its existing one back."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core import atomic, events, faults, identity
from worktree_tools.core.agent import OWNER_FILE, check_name
from worktree_tools.core.errors import InvalidInput, Outcome, exit_code
from worktree_tools.core.gitcmd import clean_env
from worktree_tools.core.repo import null_oid
from worktree_tools.env import lifecycle
from worktree_tools.hooks import run as hookrun
from worktree_tools.worktrees import gitinfo, lease, location, move, placement, records
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.records import Record, RecordState


@dataclass(frozen=True)
class AllocRequest:
    agent: str
    cwd: Path
    base: str | None = None
    branch: str | None = None
    path: str | None = None
    task: str | None = None
    owner_pid: int | None = None
    ttl: float | None = None
    slots: tuple[str, ...] = ()


@dataclass(frozen=True)
class AllocResult:
    record: Record
    created: bool
    warnings: tuple[str, ...] = ()
    env: lifecycle.EnvReport | None = None

    @property
    def setup_failed(self) -> bool:
        return self.env is not None and self.env.setup_failed

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema_version": 1,
            "outcome": "setup_failed" if self.setup_failed else "ok",
            **self.record.output(),
            "reused": not self.created,
            "warnings": list(self.warnings),
            "env": self.env.to_json() if self.env else None,
        }
        if self.setup_failed:
            data["exit_code"] = exit_code(Outcome.HOOK_FAILED)
            data["error"] = self.env.setup.message() if self.env and self.env.setup else None
            data["fix"] = self.env.setup.fix if self.env and self.env.setup else None
        return data


def lock_reason(agent: str) -> str:
    return f"git wt: owned by {agent}"


def write_owner_file(admin_dir: Path, agent: str) -> None:
    """`<worktree gitdir>/wt-owner`: wt-commit's default agent in that worktree."""
    target = admin_dir / OWNER_FILE
    atomic.write_text(target, agent + "\n", durable=True)


def alloc(repo: Repo, req: AllocRequest) -> AllocResult:
    """Create (or return) AGENT's worktree. Bad input raises InvalidInput before any change."""
    agent = check_name(req.agent)
    records.require_ttl(req.ttl)
    env_plan = lifecycle.plan(repo, req.slots)
    with repo.agent_lock(agent):
        with repo.repo_lock():
            existing = records.load(repo.state_dir, agent)
        warnings: tuple[str, ...] = ()
        if existing is not None:
            rec, created = _reuse(repo, existing, req), False
        else:
            path = _target_path(repo, agent, req.path, req.cwd)
            warnings = _placement_warnings(repo, agent, path)
            rec, created = _create(repo, agent, req, path), True
        env = lifecycle.after_alloc(repo, rec, env_plan, created=created)
    return AllocResult(rec, created, warnings, env)


def _placement_warnings(repo: Repo, agent: str, path: Path) -> tuple[str, ...]:
    """An explicit --path inside a .git directory is honoured, with the reason it is a bad idea
    (a configured wt.worktreeDir there is refused by Repo.placement)."""
    why = placement.inside_git_dir(path, repo.commondir)
    if why is None:
        return ()
    return (
        f"{path} is {why}: Jest, Metro, file watchers and search tools skip paths inside .git "
        f"and will find nothing there; move it with: git wt move {agent}",
    )


def _resolve_base(repo: Repo, base: str | None) -> tuple[str, str]:
    if base is None:
        # The main worktree's HEAD, read from its file: `git worktree list` would read other
        # worktrees' metadata, which a concurrent `git worktree add` may have half written.
        head = (repo.commondir / "HEAD").read_text(encoding="utf-8").strip()
        base = head[5:].strip().removeprefix("refs/heads/") if head.startswith("ref: ") else head
    oid = gitinfo.rev(repo.wt, base)
    if oid is None:
        raise InvalidInput(
            f"base {base!r} does not name a commit", fix="git branch -a lists the branches"
        )
    return base, oid


def _check_branch(repo: Repo, branch: str) -> None:
    res = repo.wt.git(["check-ref-format", "--branch", branch], check=False)
    if res.returncode != 0 or branch.startswith("-"):
        raise InvalidInput(f"invalid branch name {branch!r}")


def _target_path(repo: Repo, agent: str, raw: str | None, cwd: Path) -> Path:
    if raw is None:
        return repo.placement() / agent
    return Path(os.path.normpath(cwd / os.path.expanduser(raw)))


def _create(repo: Repo, agent: str, req: AllocRequest, path: Path) -> Record:
    identity.record_baseline(repo.wt)  # the identity the fleet began with (first alloc only)
    base, base_oid = _resolve_base(repo, req.base)
    branch = req.branch or f"{repo.branch_prefix()}{agent}"
    _check_branch(repo, branch)
    ttl = req.ttl or repo.default_ttl()
    owner = lease.owner_for(req.owner_pid)
    reason = lock_reason(agent)
    recovered = False
    if os.path.lexists(path):
        admin = gitinfo.admin_dir_of(path)
        # A crash after `git worktree add` and before the record: finish that allocation.
        recovered = admin is not None and _locked_reason(admin) == reason
        if not recovered:
            raise InvalidInput(
                f"{path} already exists and is not {agent}'s worktree; nothing was changed",
                fix="choose another --path, or move that directory away",
            )
    if not recovered:
        _add(repo, path, branch, base_oid, reason)
        faults.point("wt-alloc-added")
    admin = gitinfo.admin_dir_of(path)
    if admin is None:
        raise InvalidInput(f"git did not create a worktree at {path}")
    write_owner_file(admin, agent)
    location.remember(admin, path)  # tells a later move by hand from a deletion
    stamp = records.now_iso()
    rec = Record(
        agent=agent,
        path=os.fspath(path),
        admin_dir=os.fspath(admin),
        branch=branch,
        base=base,
        base_oid=base_oid,
        owner=owner,
        created=stamp,
        heartbeat=stamp,
        ttl=ttl,
        state=RecordState.ACTIVE,
        task=req.task,
    )
    with repo.repo_lock():
        records.save(repo.state_dir, rec)
        events.append(
            repo.state_dir,
            "alloc",
            agent,
            outcome="created",
            branch=rec.branch,
            worktree=rec.path,
            record=rec.output(),
        )
    _checkout_if_needed(repo, rec)
    return rec


def _add(repo: Repo, path: Path, branch: str, base_oid: str, reason: str) -> None:
    exists = gitinfo.rev(repo.wt, f"refs/heads/{branch}") is not None
    # --lock: locked from the first moment, so git's prune can never take it;
    # --no-checkout: the slow part (checkout) runs after the admin lock is released.
    args = ["worktree", "add", "--no-checkout", "--lock", "--reason", reason, "--quiet"]
    with repo.admin_lock():
        if exists:
            used = [w for w in gitinfo.worktree_list(repo.wt) if w.branch == branch]
            if used:
                raise InvalidInput(
                    f"branch {branch!r} is already checked out at {used[0].path}",
                    fix="choose another --branch",
                )
            args += ["--", os.fspath(path), branch]
        else:
            args += ["--no-track", "-b", branch, "--", os.fspath(path), base_oid]
        from worktree_tools.core import permit

        with permit.granted(repo.wt):  # alloc's own new branch: the guard lets it pass
            res = repo.wt.git(args, check=False)
    if res.returncode != 0:
        raise InvalidInput(f"git worktree add refused: {res.err.strip()}")


def _locked_reason(admin: Path) -> str | None:
    try:
        return (admin / "locked").read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _checkout_if_needed(repo: Repo, rec: Record) -> None:
    """The checkout `git worktree add --no-checkout` left out, and its post-checkout hook."""
    tree = repo.tree(rec)
    head = gitinfo.rev(tree, "HEAD")
    if tree.index_path.exists() or head is None:
        return
    tree.git(["read-tree", "--reset", "-u", "HEAD"])
    # As `git worktree add` runs it (old HEAD the null id, new HEAD, branch checkout); its exit
    # status is ignored there too.
    hookrun.run(
        repo.wt.hooks_dir,
        "post-checkout",
        [null_oid(head), head, "1"],
        cwd=tree.toplevel,
        env=clean_env(),
    )


def _reuse(repo: Repo, rec: Record, req: AllocRequest) -> Record:
    """Idempotence: the same agent gets its worktree back (reactivated if it had released)."""
    if req.path is not None and _target_path(repo, rec.agent, req.path, req.cwd) != Path(rec.path):
        raise InvalidInput(
            f"{rec.agent!r} already owns a worktree at {rec.path}",
            fix=f"git wt release {rec.agent} first, or use another agent name",
        )
    if req.branch is not None and req.branch != rec.branch:
        raise InvalidInput(f"{rec.agent!r} already works on branch {rec.branch!r}")
    rec = move.reconcile(repo, rec)  # a move interrupted by a crash, or done by hand
    if gitinfo.admin_dir_of(Path(rec.path)) is None:
        raise InvalidInput(
            f"{rec.agent!r}'s worktree {rec.path} is missing (removed by hand?)",
            fix="git wt gc (keeps its branch and rescues its commits), then alloc again",
        )
    records.require_admin_dir(rec, repo.state_dir)
    with repo.repo_lock():
        rec = records.require(repo.state_dir, rec.agent)
        before = lease.state_of(rec)
        changes: dict[str, Any] = {"heartbeat": records.now_iso()}
        if req.owner_pid is not None or lease.owner_alive(rec.owner) is False:
            changes["owner"] = lease.owner_for(req.owner_pid)
        if rec.state is not RecordState.ACTIVE:
            changes.update(state=RecordState.ACTIVE, released_at=None)
        if req.ttl is not None:
            changes["ttl"] = req.ttl
        if req.task is not None:
            changes["task"] = req.task
        rec = rec.with_changes(**changes)
        records.save(repo.state_dir, rec)
        events.append(
            repo.state_dir,
            "alloc",
            rec.agent,
            outcome="reused",
            before=before.value,
            branch=rec.branch,
            path=rec.path,
        )
    write_owner_file(Path(rec.admin_dir), rec.agent)
    _checkout_if_needed(repo, rec)
    return rec
