"""The journal's own rules over history: a commit may widen `.wtjournal`, never narrow it.

The rules a commit is checked by are its parent's, so an agent could switch them off in one
commit and break them in the next. Every commit of a range that changes `.wtjournal` is
compared with its parents' (a missing file means the defaults): protecting fewer paths or
branches, dropping the name pattern or moving the checkpoint ref is `policy_loosened`, unless
a person accepted that commit (`git wt journal verify --accept-policy-change COMMIT`).
A merge is a violation only when it protects less than every one of its parents: taking the
other side's configuration is that side's change, checked where it was made.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from worktree_tools.journal.config import load
from worktree_tools.journal.rules import Kind, Violation, policy_violations

ACCEPT_ENV = "WT_ACCEPT_POLICY_CHANGE"  # for the pre-push hook: commits a person accepted


def changes(repo_dir: Path, commits: Iterable[tuple[str, list[str]]]) -> list[Violation]:
    """`policy_loosened` violations of each (commit, parents) that changed `.wtjournal` (the
    history walk lists them in the same pass as the journal paths)."""
    out: list[Violation] = []
    for commit, parents in commits:
        if not parents:
            continue  # a root commit sets the rules up
        cfg = load(repo_dir, commit)
        loosened = [policy_violations(load(repo_dir, p), cfg) for p in parents]
        if all(loosened):
            out += [v.at(commit, parents[0]) for v in loosened[0]]
    return out


def split_accepted(
    found: list[Violation], accepted: Iterable[str]
) -> tuple[list[Violation], list[Violation]]:
    """(violations still standing, policy changes a person accepted by commit id)."""
    ids = set(accepted)
    keep: list[Violation] = []
    taken: list[Violation] = []
    for v in found:
        if v.kind is Kind.POLICY_LOOSENED and v.commit is not None and v.commit in ids:
            taken.append(v)
        else:
            keep.append(v)
    return keep, taken
