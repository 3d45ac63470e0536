"""Build the integrated commit of a branch on a target tip, touching no worktree.

Only objects are written (no index, no file, no ref): trees merged in process through pygit2,
commits by core.commits, the one commit builder (never signed, as the trees' merge is no one's
signature; the committer is git's identity for this repository). Strategies:
  rebase  each commit of the branch missing upstream replayed on the tip (a fast-forward when
          the tip is the branch's base), keeping its message, author and author date;
  squash  one commit on the tip with the branch merged in and the branch's messages;
  merge   a merge commit of the tip and the branch.
The branch's work already in the target (an ancestor, a squash-merge, every patch-id upstream)
is `Integrated.unchanged`. Conflicts carry the paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pygit2

from worktree_tools.core import commits
from worktree_tools.core.errors import InvalidInput, RefMoved, Rejected
from worktree_tools.core.repo import Worktree
from worktree_tools.land.requests import Strategy


class Conflict(RefMoved):
    """The branch does not apply on the target: nothing is landed (exit 4)."""


@dataclass(frozen=True)
class Integrated:
    commit: str  # the new target tip (== base when unchanged)
    tree: str
    base: str  # the tip it was built on
    unchanged: bool
    commits: int  # commits added on top of base


def open_odb(wt: Worktree) -> pygit2.Repository:
    return pygit2.Repository(str(wt.commondir))


def integrate(
    wt: Worktree,
    odb: pygit2.Repository,
    base: str,
    head: str,
    strategy: Strategy,
    *,
    branch: str,
    target: str,
) -> Integrated:
    """`head` integrated on `base` by `strategy`; raises Conflict with the paths."""
    b, h = odb[base].peel(pygit2.Commit), odb[head].peel(pygit2.Commit)
    unchanged = Integrated(base, str(b.tree_id), base, True, 0)
    if b.id == h.id or odb.descendant_of(b.id, h.id):
        return unchanged
    if strategy is Strategy.REBASE:
        return _rebase(wt, odb, b, h, branch, target)
    mb = odb.merge_base(b.id, h.id)
    ancestor = odb[mb].peel(pygit2.Commit).tree if mb else _empty(odb)
    tree = _merge(odb, ancestor, b.tree, h.tree, f"{branch}", target)
    if tree == b.tree_id:
        return unchanged  # squash-merged (or reverted) upstream
    if strategy is Strategy.MERGE:
        message = f"Merge branch '{branch}' into {target}\n"
        oid = _commit(wt, tree, [b.id, h.id], message)
    else:
        oid = _commit(wt, tree, [b.id], _squash_message(odb, b, h, branch))
    return Integrated(oid, str(tree), base, False, 1)


def _rebase(
    wt: Worktree,
    odb: pygit2.Repository,
    b: pygit2.Commit,
    h: pygit2.Commit,
    branch: str,
    target: str,
) -> Integrated:
    own = _own_commits(odb, b, h)
    if odb.merge_base(b.id, h.id) == b.id and all(len(c.parent_ids) == 1 for c in own):
        # The tip is the branch's base: the branch's own commits land as they are.
        return Integrated(str(h.id), str(h.tree_id), str(b.id), False, len(own))
    # `git cherry`: "-" commits have an equivalent patch upstream (already landed).
    todo = [
        line[2:].strip()
        for line in wt.git(["cherry", str(b.id), str(h.id)]).out.splitlines()
        if line.startswith("+")
    ]
    tip, count = b, 0
    for hexsha in todo:
        c = odb[hexsha].peel(pygit2.Commit)
        if len(c.parent_ids) > 1:
            continue  # merge commits are dropped, as `git rebase` does
        ancestor = c.parents[0].tree if c.parent_ids else _empty(odb)
        tree = _merge(odb, ancestor, tip.tree, c.tree, f"commit {hexsha[:12]} of {branch}", target)
        if tree == tip.tree_id:
            continue  # became empty on the new tip
        oid = _commit(wt, tree, [tip.id], c.message, author=c.author)
        tip = odb[oid].peel(pygit2.Commit)
        count += 1
    if tip.id == b.id:
        return Integrated(str(b.id), str(b.tree_id), str(b.id), True, 0)
    return Integrated(str(tip.id), str(tip.tree_id), str(b.id), False, count)


def _merge(
    odb: pygit2.Repository, ancestor: Any, ours: Any, theirs: Any, what: str, target: str
) -> pygit2.Oid:
    index = odb.merge_trees(ancestor, ours, theirs)
    if index.conflicts is not None:
        paths: list[str] = []
        for entries in index.conflicts:
            path = next(e.path for e in entries if e is not None)
            if path not in paths:
                paths.append(path)
        if paths:
            more = f" (+{len(paths) - 10} more)" if len(paths) > 10 else ""
            raise Conflict(
                f"{what} conflicts with {target} in: " + ", ".join(paths[:10]) + more,
                fix=f"in the branch's worktree: git rebase {target} (resolve, then land again)",
                paths=paths,
            )
    return index.write_tree(odb)


def _own_commits(odb: pygit2.Repository, b: pygit2.Commit, h: pygit2.Commit) -> list[Any]:
    """The commits of `h` not in `b`, oldest first."""
    walker = odb.walk(h.id, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
    walker.hide(b.id)
    return list(walker)


def _squash_message(odb: pygit2.Repository, b: pygit2.Commit, h: pygit2.Commit, branch: str) -> str:
    body = "\n".join(
        f"* {line}" if i == 0 else f"  {line}"
        for c in _own_commits(odb, b, h)
        if len(c.parent_ids) <= 1
        for i, line in enumerate(ln for ln in c.message.strip().splitlines() if ln.strip())
    )
    return f"Squashed branch '{branch}'\n\n{body}\n"


def _empty(odb: pygit2.Repository) -> Any:
    """The empty tree, written (git knows it without storing it; libgit2 does not)."""
    return odb[odb.TreeBuilder().write()]


def _commit(
    wt: Worktree,
    tree: pygit2.Oid,
    parents: list[pygit2.Oid],
    message: str,
    *,
    author: pygit2.Signature | None = None,
) -> str:
    """A landed commit, by the one commit builder; `author` kept (name, email, date and zone)
    for a replayed commit, else git's identity is author and committer."""
    env: dict[str, str] = {}
    if author is not None:
        sign = "-" if author.offset < 0 else "+"
        hours, minutes = divmod(abs(author.offset), 60)
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_AUTHOR_DATE": f"@{author.time} {sign}{hours:02d}{minutes:02d}",
        }
    try:
        return commits.build(
            wt, str(tree), [str(p) for p in parents], message.encode(), sign=commits.NO_SIGN,
            env=env,
        )  # fmt: skip
    except InvalidInput:
        raise Rejected(
            "no committer identity for the landed commits",
            fix='git config user.name "Your Name" && git config user.email you@example.com',
        ) from None
