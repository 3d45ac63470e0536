"""What the branch tip says before a commit: its commit and tree, and whether the append-only
journal's rules apply to the named paths (the journal gate), in as few git processes as can
tell."""

from __future__ import annotations

from worktree_tools.core.repo import Worktree, empty_tree
from worktree_tools.core.statefiles import JOURNAL_CONFIG


def read_tip(wt: Worktree, ref: str) -> tuple[str | None, str, bool | None]:
    """(tip commit or None when unborn, its tree, whether it holds a `.wtjournal`) in one git
    process; the last is None when that could not be told (then the journal gate asks git)."""
    query = f"{ref}\n{ref}^{{tree}}\n{ref}:{JOURNAL_CONFIG}\n".encode()
    res = wt.git(["cat-file", "--batch-check=%(objectname) %(objecttype)"], input=query)
    lines = res.out.splitlines()
    if len(lines) == 3:
        commit, tree, config = (line.split(" ") for line in lines)
        if commit[-1:] == ["commit"] and tree[-1:] == ["tree"] and len(config) == 2:
            present = None if config[1] == "ambiguous" else config[1] != "missing"
            return commit[0], tree[0], present
    base = wt.resolve(ref)  # unborn, or anything unusual: as before
    tip, tip_tree = base if base else (None, empty_tree(wt))
    return tip, tip_tree, None


def journal_gate(
    wt: Worktree, tip: str | None, tree: str, rels: list[str], has_config: bool | None = None
) -> None:
    """The append-only journal rules (`.wtjournal`, default `journal/**`), as the pre-commit
    check applies them. The journal modules are imported only when the parent commits a
    `.wtjournal` or a named path can reach the default journal: most commits pay no git call
    (`has_config` False: the parent is known to hold no `.wtjournal`), else one."""
    if tip is not None and has_config is False:
        if not any(reaches_default_journal(r) for r in rels):
            return
    elif tip is not None:
        res = wt.git(["config", "--blob", f"{tip}:{JOURNAL_CONFIG}", "--list"], check=False)
        absent = res.returncode != 0 and "bad config" not in res.err  # as journal.config reads it
        if absent and not any(reaches_default_journal(r) for r in rels):
            return
    from worktree_tools.journal.gate import check_staged_tree

    check_staged_tree(wt, [tip] if tip else [], tree, rels)


def reaches_default_journal(rel: str) -> bool:
    """JournalConfig().touches(rel) for the default paths (journal/**), without importing it."""
    return rel in (".", JOURNAL_CONFIG, "journal") or rel.startswith("journal/")
