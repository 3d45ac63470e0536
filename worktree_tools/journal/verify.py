"""`git wt journal verify [OLD..NEW]`: every commit of a range against every one of its
parents (a root commit against the empty tree), for CI and the pre-push hook.

A range that cannot be proven is a failure, never a pass: a shallow clone, an OLD that is
missing, an OLD that is not an ancestor of NEW (a rewritten history, a force push).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.core.errors import InvalidInput, WtError
from worktree_tools.core.repo import is_null
from worktree_tools.journal.config import JournalConfig, load
from worktree_tools.journal.rules import Kind, Violation, violation_error


@dataclass
class VerifyResult:
    old: str | None
    new: str
    commits: int = 0
    merges: int = 0
    skipped: int = 0
    config: str = "defaults"
    checkpoint: dict[str, Any] | None = None
    violations: list[Violation] = field(default_factory=list)
    accepted: list[Violation] = field(default_factory=list)  # policy changes a person accepted

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": "ok" if not self.violations else "rejected",
            "old": self.old,
            "new": self.new,
            "commits": self.commits,
            "merges": self.merges,
            "unchanged_journal": self.skipped,
            "config": self.config,
            "checkpoint": self.checkpoint,
            "violations": [v.to_json() for v in self.violations],
            "accepted_policy_changes": [v.to_json() for v in self.accepted],
        }


def repo_dir(repo: Any) -> Path:
    return Path(repo.workdir or repo.path)


def open_pygit2(cwd: Path) -> Any:
    import pygit2

    try:
        path = pygit2.discover_repository(str(cwd))
    except Exception:  # pygit2 raises a plain KeyError/GitError depending on version
        path = None
    if path is None:
        raise InvalidInput(f"not inside a git repository: {cwd}")
    try:
        return pygit2.Repository(path)
    except Exception as exc:  # pygit2 names no stable error class for this
        from worktree_tools.core.repo import object_format

        fmt = object_format(cwd)
        if fmt == "sha1":
            raise
        raise Unsupported(
            f"this repository uses {fmt} object ids, which pygit2 "
            f"{getattr(pygit2, '__version__', '?')} "
            f"(libgit2 {pygit2.LIBGIT2_VERSION}) cannot read ({exc}); the journal history "
            "was not verified",
            fix="wt-commit and `git wt journal check` enforce the rules on each commit here "
            "(git plumbing only); `git wt watch --no-journal` watches the rest; to verify "
            "history, install a pygit2 built with SHA-256 support",
            object_format=fmt,
        ) from None


class Unsupported(WtError):
    """Something this installation cannot do in this repository (outcome error, exit 1)."""


def parse_range(spec: str | None) -> tuple[str | None, str]:
    """`OLD..NEW`, `OLD..` (NEW = HEAD), or `NEW` alone (its whole history)."""
    if spec is None or spec == "":
        return None, "HEAD"
    if "..." in spec:
        raise InvalidInput(f"not a range: {spec!r}; use OLD..NEW (two dots)")
    if ".." in spec:
        old, _, new = spec.partition("..")
        if not old:
            raise InvalidInput(f"range {spec!r} has no OLD; use OLD..NEW or NEW alone")
        return old, new or "HEAD"
    return None, spec


def resolve(repo: Any, rev: str, what: str) -> Any | None:
    import pygit2

    try:
        obj = repo.revparse_single(rev)
        commit = obj.peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        return None
    return commit.id


def verify(
    cwd: Path,
    spec: str | None,
    *,
    use_checkpoint: bool = True,
    config: JournalConfig | None = None,
    accept: Sequence[str] = (),
) -> VerifyResult:
    """Raise JournalViolation for any violation in the range; return what was checked.
    `accept`: commits whose loosening of `.wtjournal` a person accepted (reported in
    `accepted`, not as violations)."""
    repo = open_pygit2(cwd)
    accepted = accepted_commits(repo, accept)
    old_rev, new_rev = parse_range(spec)
    if repo.is_shallow:
        raise WtError(
            "this clone is shallow: the journal history cannot be verified",
            fix="git fetch --unshallow (in CI: actions/checkout with fetch-depth: 0)",
        )
    new = resolve(repo, new_rev, "NEW")
    if new is None:
        raise InvalidInput(f"NEW {new_rev!r} is not a commit in this repository")
    old = None
    if old_rev is not None and not is_null(old_rev):
        old = resolve(repo, old_rev, "OLD")
        if old is None:
            raise WtError(
                f"OLD {old_rev!r} cannot be found: the range cannot be verified "
                "(an unfetched or force-pushed-away tip?)",
                fix=f"git fetch origin {old_rev} (a tip that no remote has any more means "
                "history was rewritten)",
            )
    elif old_rev is not None and len(old_rev) not in (40, 64):
        raise InvalidInput(f"OLD {old_rev!r} is not a revision")
    cfg = config or load(Path(repo.workdir or repo.path), str(old if old else new))
    result = VerifyResult(old=str(old) if old else None, new=str(new), config=cfg.source)
    if old is not None and old != new and not repo.descendant_of(new, old):
        result.violations.append(not_ancestor(old, new))
    else:
        walk_range(repo, cfg, new, [old] if old is not None else [], result)
    finish(repo, cfg, result, use_checkpoint, f"in {_describe(old, new)}", accepted)
    return result


def accepted_commits(repo: Any, accept: Iterable[str]) -> list[str]:
    """Each accepted revision as a full commit id; InvalidInput for one that is no commit."""
    out = []
    for rev in accept:
        oid = resolve(repo, rev, "accepted")
        if oid is None:
            raise InvalidInput(
                f"--accept-policy-change {rev!r} is not a commit in this repository",
                fix="git log --oneline -- .wtjournal lists the commits that changed the policy",
            )
        out.append(str(oid))
    return out


def not_ancestor(old: Any, new: Any) -> Violation:
    return Violation(
        "(history)",
        Kind.NOT_ANCESTOR,
        f"OLD {str(old)[:12]} is not an ancestor of NEW {str(new)[:12]}",
        commit=str(new),
        parent=str(old),
    )


def finish(
    repo: Any,
    cfg: JournalConfig,
    result: VerifyResult,
    use_checkpoint: bool,
    what: str,
    accepted: Sequence[str] = (),
) -> None:
    """Add the checkpoint check, set accepted policy changes aside, then raise if anything
    is left."""
    if use_checkpoint:
        from worktree_tools.journal import checkpoint

        result.checkpoint, extra = checkpoint.check_extends(repo, cfg, result.new)
        result.violations += extra
    from worktree_tools.journal.policy import split_accepted

    result.violations, taken = split_accepted(result.violations, accepted)
    result.accepted += taken
    if result.violations:
        raise violation_error(result.violations, what, **_summary(result))


def walk_range(repo: Any, cfg: JournalConfig, new: Any, hide: list[Any], result: Any) -> None:
    """Check every commit reachable from `new` and from none of `hide` against every parent."""
    from worktree_tools.journal import policy
    from worktree_tools.journal.history import walk

    walked = walk(repo, cfg, str(new), [str(h) for h in hide])
    result.commits += walked.commits
    result.merges += walked.merges
    result.skipped += walked.pairs - walked.changed_pairs
    result.violations += walked.violations
    result.violations += policy.changes(repo_dir(repo), walked.config_changes)


def _describe(old: Any | None, new: Any) -> str:
    return f"{str(old)[:12]}..{str(new)[:12]}" if old else f"the history of {str(new)[:12]}"


def _summary(result: VerifyResult) -> dict[str, Any]:
    data = result.to_json()
    keys = ("old", "new", "commits", "merges", "config", "checkpoint", "accepted_policy_changes")
    return {k: data[k] for k in keys}
