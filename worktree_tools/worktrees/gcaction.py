"""What gc did, or would do in a dry run, to a worktree and to its branch: one vocabulary.

A dry run says what a real run would do with the same words plus `would_` where the real run
acts (`would_remove`, `would_delete`); what stays is `kept` in both.
"""

from __future__ import annotations

from worktree_tools.core.enums import WordEnum


class GcAction(WordEnum):
    """A worktree's (or a leftover's) fate in one gc run."""

    REMOVED = "removed"
    WOULD_REMOVE = "would_remove"  # dry run
    KEPT = "kept"
    SKIPPED = "skipped"  # busy: a wt-commit or git runs in it
    FAILED = "failed"
    RESTORED = "restored"  # a leftover of a killed gc put back where it was


class BranchAction(WordEnum):
    """What gc did to a removed worktree's branch."""

    DELETED = "deleted"
    WOULD_DELETE = "would_delete"  # dry run
    KEPT = "kept"
