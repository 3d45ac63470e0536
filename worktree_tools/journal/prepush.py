"""The pre-push check: refuse to push a journal violation, a rewind or deletion of a protected
branch, or a rewind of the checkpoint ref.

Input is what git gives a pre-push hook on stdin, one line per ref:
`<local ref> <local oid> <remote ref> <remote oid>`; the pre-commit framework passes one such
update in PRE_COMMIT_* variables instead (`from_env`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.repo import NULL_MARK, is_null
from worktree_tools.journal.config import load
from worktree_tools.journal.policy import ACCEPT_ENV
from worktree_tools.journal.rules import Kind, Violation, violation_error
from worktree_tools.journal.verify import (
    VerifyResult,
    accepted_commits,
    finish,
    not_ancestor,
    open_pygit2,
    resolve,
    walk_range,
)


@dataclass(frozen=True)
class RefUpdate:
    local_ref: str
    local: str
    remote_ref: str
    remote: str

    @classmethod
    def parse(cls, line: str) -> RefUpdate:
        parts = line.split()
        if len(parts) != 4:
            raise InvalidInput(f"not a pre-push line: {line!r}")
        return cls(*parts)


@dataclass
class PushResult:
    remote: str
    checked: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"outcome": "ok", "remote": self.remote, "refs": self.checked, "violations": []}


def from_env() -> list[RefUpdate]:
    """The update the pre-commit framework describes in its PRE_COMMIT_* variables."""
    env = os.environ
    local_ref = env.get("PRE_COMMIT_LOCAL_BRANCH", "HEAD")
    remote_ref = env.get("PRE_COMMIT_REMOTE_BRANCH", local_ref)
    to_ref = env.get("PRE_COMMIT_TO_REF")
    if not to_ref:  # a push that includes a root commit: the framework names no range
        return [RefUpdate(local_ref, local_ref, remote_ref, NULL_MARK)]
    return [RefUpdate(local_ref, to_ref, remote_ref, env.get("PRE_COMMIT_FROM_REF", NULL_MARK))]


def check_push(cwd: Path, remote: str, updates: Iterable[RefUpdate]) -> PushResult:
    """Raise JournalViolation when any ref update must not be pushed."""
    repo = open_pygit2(cwd)
    result = PushResult(remote=remote)
    # Policy changes a person accepted for this push: $WT_ACCEPT_POLICY_CHANGE="C1 C2".
    accept = accepted_commits(repo, os.environ.get(ACCEPT_ENV, "").replace(",", " ").split())
    for upd in updates:
        result.checked.append(_one(repo, remote, upd, accept))
    return result


def _one(repo: Any, remote: str, upd: RefUpdate, accept: list[str]) -> dict[str, Any]:
    base = Path(repo.workdir or repo.path)
    local = resolve(repo, upd.local, "local") if not is_null(upd.local) else None
    remote_oid = resolve(repo, upd.remote, "remote") if not is_null(upd.remote) else None
    cfg = load(base, str(remote_oid or local or "HEAD"))
    guarded = upd.remote_ref == cfg.checkpoint_ref or (
        upd.remote_ref.startswith("refs/heads/") and cfg.is_protected(upd.remote_ref)
    )
    info: dict[str, Any] = {"ref": upd.remote_ref, "protected": guarded}
    if is_null(upd.local):
        if guarded:
            raise violation_error(
                [Violation(upd.remote_ref, Kind.NOT_ANCESTOR, "deleting a protected ref")],
                f"in the push to {remote}",
            )
        info["action"] = "delete"
        return info
    if local is None:
        return {**info, "action": "skipped (not a commit)"}
    if not is_null(upd.remote) and guarded:
        if remote_oid is None:
            raise violation_error(
                [
                    Violation(
                        upd.remote_ref,
                        Kind.NOT_ANCESTOR,
                        f"the remote tip {upd.remote[:12]} is unknown here, so this push "
                        "cannot be proven a fast-forward (git fetch first)",
                    )
                ],
                f"in the push to {remote}",
            )
        if remote_oid != local and not repo.descendant_of(local, remote_oid):
            raise violation_error([not_ancestor(remote_oid, local)], f"in the push to {remote}")
    result = VerifyResult(
        old=str(remote_oid) if remote_oid else None, new=str(local), config=cfg.source
    )
    if upd.remote_ref == cfg.checkpoint_ref:
        return {**info, "action": "checkpoint"}
    if remote_oid is not None and repo.descendant_of(local, remote_oid):
        hide = [remote_oid]
    else:  # a new branch or a rewritten one: every commit the remote does not have yet
        hide = _remote_tips(repo, remote)
    walk_range(repo, cfg, local, hide, result)
    finish(repo, cfg, result, True, f"in the push of {upd.local_ref} to {remote}", accept)
    accepted = [v.to_json() for v in result.accepted]
    return {**info, "action": "verified", "commits": result.commits, "accepted": accepted}


def _remote_tips(repo: Any, remote: str) -> list[Any]:
    import pygit2

    tips = []
    for name in repo.references:
        if name.startswith(f"refs/remotes/{remote}/"):
            try:
                tips.append(repo.references[name].peel(pygit2.Commit).id)
            except (pygit2.GitError, ValueError, KeyError):
                continue
    return tips
