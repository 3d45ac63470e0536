"""Hook runs that use the repository's one stash, serialized across its worktrees.

`refs/stash` is shared by every worktree, and lint-staged and lefthook keep their backups there
(lint-staged finds its entry by hash but drops and applies it by position; lefthook drops every
entry with its label). Hooks that run in a live worktree (a plain `git commit`, wt-commit in
place) therefore take one repository-wide lock while they run, so two such runs never interleave
on the stack; runs in an isolated hook checkout have a private stash and need no such lock.
Only hooks that can reach the stash take it, so unrelated hooks in different worktrees still run
side by side.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from worktree_tools.core.locks import STASH_LOCK, Holder, RecordedLock
from worktree_tools.hooks.shimtext import CHAINED_SUFFIX

# What a hook's text, or the script a dispatching stub runs, says when it may use the stash.
STASH_USERS = (b"lint-staged", b"lefthook", b"git stash", b"nano-staged")


def uses_stash(hooks_dir: Path, name: str, toplevel: Path) -> bool:
    """Whether hook `name` (or what it chains or dispatches to) can use the stash."""
    texts = [hooks_dir / name, hooks_dir / (name + CHAINED_SUFFIX),
             hooks_dir.parent / name]  # fmt: skip  # husky: .husky/_/NAME runs .husky/NAME
    for path in texts:
        try:
            head = path.read_bytes()[:65536]
        except OSError:
            continue
        if any(marker in head for marker in STASH_USERS):
            return True
    return False


@contextlib.contextmanager
def held(state_dir: Path, holder: Holder, deadline: float, needed: bool) -> Iterator[None]:
    if not needed:
        yield
        return
    with RecordedLock(state_dir / STASH_LOCK, "repository hook-stash lock", holder, deadline):
        yield
