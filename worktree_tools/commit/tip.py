"""What the branch tip says before a commit: its commit and tree, whether the append-only
journal's rules apply to the named paths (the journal gate), and the tip's entries for the
named paths: all read by one `git cat-file --batch` (core/catfile), which the tree edit then
reads the same directories from."""

from __future__ import annotations

import os

from worktree_tools.core.catfile import CatFile, named_entries
from worktree_tools.core.entries import PATHSPEC_LIMIT, Entry, tree_entries
from worktree_tools.core.repo import empty_tree
from worktree_tools.core.statefiles import JOURNAL_CONFIG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_tools.core.repo import Worktree

_CONFIG_NAME = os.fsencode(JOURNAL_CONFIG)


def read_tip(
    wt: Worktree, ref: str, objects: CatFile | None = None
) -> tuple[str | None, str, bool | None]:
    """(tip commit or None when unborn, its tree, whether it holds a `.wtjournal`), asked of
    `objects` (else of a cat-file started here); the last is None when that could not be told
    (then the journal gate asks git)."""
    if objects is None:
        with CatFile(wt) as own:
            return read_tip(wt, ref, own)
    got = objects.get(ref)
    if got is not None and got[1] == "commit" and got[2].startswith(b"tree "):
        tree = got[2][5 : got[2].find(b"\n")].decode("ascii")
        return got[0], tree, _CONFIG_NAME in objects.tree(tree)
    base = wt.resolve(ref)  # unborn, or anything unusual: as before
    tip, tip_tree = base if base else (None, empty_tree(wt))
    return tip, tip_tree, None


def tip_entries(
    wt: Worktree, objects: CatFile, tip: str | None, tree: str, rels: list[str]
) -> dict[str, Entry]:
    """`tree_entries(wt, tip, rels)`: every blob, link and gitlink of the tip's tree at or under
    `rels`, in ls-tree's order. A named file is looked up in the directories on its way (read
    by `objects`: no process); a named directory, or many paths, are listed by `git ls-tree`."""
    if tip is None:
        return {}
    if not rels or "." in rels or len(rels) > PATHSPEC_LIMIT:
        return tree_entries(wt, tip, rels)
    found, rest = named_entries(objects, tree, rels)
    out = {path: Entry(mode, oid) for path, (mode, oid) in found.items()}
    if rest:
        out.update(tree_entries(wt, tree, rest))
    return dict(sorted(out.items(), key=lambda item: os.fsencode(item[0])))


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
