"""The one parser of `git worktree list --porcelain -z`: git's registry of worktrees."""

from __future__ import annotations

from dataclasses import dataclass

from worktree_tools.core.repo import Worktree


@dataclass(frozen=True)
class Listed:
    """One entry of `git worktree list --porcelain`."""

    path: str
    head: str | None
    branch: str | None  # short name, None when detached
    bare: bool
    locked: str | None  # the reason ("" when locked without one)
    prunable: bool


def worktree_list(wt: Worktree) -> list[Listed]:
    """Git's worktree registry. Callers hold the worktree-admin lock: git fails to list while
    another `git worktree add` is half done."""
    return parse(wt.git(["worktree", "list", "--porcelain", "-z"]).out)


def parse(out: str) -> list[Listed]:
    """Entries of `git worktree list --porcelain -z` output."""
    result: list[Listed] = []
    fields: dict[str, str] = {}
    for item in [*out.split("\0"), ""]:
        if item:
            key, _, value = item.partition(" ")
            fields[key] = value
            continue
        if "worktree" in fields:
            branch = fields.get("branch")
            result.append(
                Listed(
                    path=fields["worktree"],
                    head=fields.get("HEAD"),
                    branch=branch.removeprefix("refs/heads/") if branch else None,
                    bare="bare" in fields,
                    locked=fields.get("locked"),
                    prunable="prunable" in fields,
                )
            )
        fields = {}
    return result
