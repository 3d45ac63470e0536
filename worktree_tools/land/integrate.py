"""Build the integrated commit of a branch on a target tip, touching no worktree.

Only objects are written (git merge-tree, commit-tree): no index, no file, no ref. Strategies:
  rebase  each commit of the branch missing upstream replayed on the tip (a fast-forward when
          the tip is the branch's base), keeping its message, author and author date;
  squash  one commit on the tip with the branch's tree merged in and the branch's messages;
  merge   a merge commit of the tip and the branch.
The branch's work already in the target (an ancestor, a squash-merge, every patch-id upstream)
is `Integrated.unchanged`. Conflicts carry the paths.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from worktree_tools.core.errors import RefMoved
from worktree_tools.core.gitcmd import git
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


def integrate(
    wt: Worktree, base: str, head: str, strategy: Strategy, *, branch: str, target: str
) -> Integrated:
    """`head` integrated on `base` by `strategy`; raises Conflict with the paths."""
    base_tree = _tree(wt, base)
    if _is_ancestor(wt, head, base):
        return Integrated(base, base_tree, base, True, 0)
    if strategy is Strategy.REBASE:
        return _rebase(wt, base, base_tree, head, branch, target)
    tree = _merge_tree(wt, base, head, branch, target)
    if tree == base_tree:
        return Integrated(base, base_tree, base, True, 0)  # squash-merged or reverted upstream
    if strategy is Strategy.MERGE:
        message = f"Merge branch '{branch}' into {target}\n".encode()
        commit = _commit_tree(wt, tree, [base, head], message)
    else:
        commit = _commit_tree(wt, tree, [base], _squash_message(wt, base, head, branch))
    return Integrated(commit, tree, base, False, 1)


def _rebase(
    wt: Worktree, base: str, base_tree: str, head: str, branch: str, target: str
) -> Integrated:
    if _is_ancestor(wt, base, head) and not _has_merges(wt, base, head):
        # The tip is the branch's base: the branch's own commits land as they are.
        count = len(wt.git(["rev-list", f"{base}..{head}"]).out.split())
        return Integrated(head, _tree(wt, head), base, False, count)
    # `git cherry`: "-" commits have an equivalent patch upstream (already landed).
    todo = [
        line[2:].strip()
        for line in wt.git(["cherry", base, head]).out.splitlines()
        if line.startswith("+")
    ]
    tip, tree = base, base_tree
    for commit in todo:
        parents = wt.git(["rev-parse", f"{commit}^@"]).out.split()
        if len(parents) > 1:
            continue  # merge commits are dropped, as `git rebase` does
        picked = _pick(wt, tip, commit, parents[0] if parents else None, branch, target)
        if picked == tree:
            continue  # became empty on the new tip
        tip = _commit_like(wt, commit, picked, tip)
        tree = picked
    if tip == base:
        return Integrated(base, base_tree, base, True, 0)
    count = len(wt.git(["rev-list", f"{base}..{tip}"]).out.split())
    return Integrated(tip, tree, base, False, count)


def _pick(wt: Worktree, tip: str, commit: str, parent: str | None, branch: str, target: str) -> str:
    """The tree of `commit` cherry-picked onto `tip`. git 2.39's merge-tree has no
    --merge-base, so the three trees are given as parentless commits with the right history."""
    parent_tree = _tree(wt, parent) if parent else _empty_tree(wt)
    anchor = _commit_tree(wt, parent_tree, [], b"wt land: pick base\n")
    ours = _commit_tree(wt, _tree(wt, tip), [anchor], b"wt land: ours\n")
    theirs = _commit_tree(wt, _tree(wt, commit), [anchor], b"wt land: theirs\n")
    return _merge_tree(wt, ours, theirs, branch, target, shown=commit)


def _merge_tree(
    wt: Worktree, ours: str, theirs: str, branch: str, target: str, shown: str | None = None
) -> str:
    res = wt.git(
        [
            "merge-tree",
            "--write-tree",
            "--name-only",
            "-z",
            "--allow-unrelated-histories",
            ours,
            theirs,
        ],
        check=False,
    )
    head, _, _messages = res.stdout.partition(b"\0\0")
    fields = [os.fsdecode(f) for f in head.split(b"\0") if f]
    if res.returncode == 0 and fields:
        return fields[0]
    if res.returncode != 1 or not fields:
        raise RefMoved(f"git merge-tree failed: {res.err.strip()}")
    paths = list(dict.fromkeys(fields[1:]))
    what = f"commit {shown[:12]} of {branch}" if shown else branch
    raise Conflict(
        f"{what} conflicts with {target} in: "
        + ", ".join(paths[:10])
        + (f" (+{len(paths) - 10} more)" if len(paths) > 10 else ""),
        fix=f"in the branch's worktree: git rebase {target} (resolve, then land again)",
        paths=paths,
    )


def _squash_message(wt: Worktree, base: str, head: str, branch: str) -> bytes:
    logs = wt.git(["log", "--reverse", "--no-merges", "--format=* %B", f"{base}..{head}"]).out
    body = "\n".join(line for line in logs.splitlines() if line.strip())
    return f"Squashed branch '{branch}'\n\n{body}\n".encode()


def _commit_like(wt: Worktree, commit: str, tree: str, parent: str) -> str:
    """A commit of `tree` on `parent` with `commit`'s message, author and author date."""
    message = wt.git(["cat-file", "commit", commit]).stdout.partition(b"\n\n")[2]
    who = wt.git(["log", "-1", "--format=%an%x00%ae%x00%ad", "--date=raw", commit]).out
    name, email, date = who.rstrip("\n").split("\0")
    env = wt.env(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email, GIT_AUTHOR_DATE=date)
    res = git(
        ["commit-tree", tree, "-p", parent, "-F", "-"], cwd=wt.toplevel, env=env, input=message
    )
    return res.out.strip()


def _commit_tree(wt: Worktree, tree: str, parents: list[str], message: bytes) -> str:
    args = ["commit-tree", tree]
    for p in parents:
        args += ["-p", p]
    return wt.git([*args, "-F", "-"], input=message).out.strip()


def _tree(wt: Worktree, commit: str) -> str:
    return wt.git(["rev-parse", f"{commit}^{{tree}}"]).out.strip()


def _empty_tree(wt: Worktree) -> str:
    return wt.git(["hash-object", "-t", "tree", "/dev/null"]).out.strip()


def _is_ancestor(wt: Worktree, a: str, b: str) -> bool:
    return wt.git(["merge-base", "--is-ancestor", a, b], check=False).returncode == 0


def _has_merges(wt: Worktree, base: str, head: str) -> bool:
    return bool(wt.git(["rev-list", "--merges", "-n1", f"{base}..{head}"]).out.strip())
