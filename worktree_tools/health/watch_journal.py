"""The journal part of `git wt watch`: each branch checked against the append-only rules,
incrementally (only the commits new since the last scan), never changing anything."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from worktree_tools.core.errors import CorruptState, JournalViolation
from worktree_tools.core.repo import Worktree

CORRUPT = "corrupt_config"  # not a rule broken: the rules themselves cannot be read


@dataclass
class _Branch:
    tip: str
    violations: list[dict[str, Any]]


@dataclass
class JournalTracker:
    """What each branch's history holds against the journal rules, as of its last tip."""

    wt: Worktree
    _branches: dict[str, _Branch] = field(default_factory=dict)

    def violations(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(branch, violation as JSON) for every violation on every branch, branches sorted."""
        tips = self._tips()
        for gone in set(self._branches) - set(tips):
            del self._branches[gone]
        for branch, tip in sorted(tips.items()):
            known = self._branches.get(branch)
            if known is None or known.tip != tip:
                known = self._verify(tip, known)
                self._branches[branch] = known
            for v in known.violations:
                yield branch, v

    def _tips(self) -> dict[str, str]:
        res = self.wt.git(["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/"])
        tips: dict[str, str] = {}
        for line in res.out.splitlines():
            ref, _, oid = line.rpartition(" ")
            tips[ref.removeprefix("refs/heads/")] = oid
        return tips

    def _verify(self, tip: str, known: _Branch | None) -> _Branch:
        from worktree_tools.journal.verify import verify

        # Only what is new since the last scan when the branch moved forward; a branch that
        # was rewritten is verified whole again (its old violations may be gone).
        spec, carried = tip, []
        if known is not None and self._is_ancestor(known.tip, tip):
            spec, carried = f"{known.tip}..{tip}", known.violations
        try:
            verify(self.wt.toplevel, spec, use_checkpoint=False)
            found: list[dict[str, Any]] = []
        except JournalViolation as err:
            found = list(err.details.get("violations", []))
        except CorruptState as err:  # a committed .wtjournal that cannot be read
            found = [
                {"kind": CORRUPT, "commit": tip, "path": err.path, "detail": err.message,
                 "fix": err.fix}
            ]  # fmt: skip
        return _Branch(tip, carried + found)

    def _is_ancestor(self, old: str, new: str) -> bool:
        res = self.wt.git(["merge-base", "--is-ancestor", old, new], check=False)
        return res.returncode == 0
