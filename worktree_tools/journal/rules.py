"""The append-only rules for one journal path between a parent and a child: pure functions on
modes and bytes, no git. The walkers (`history` for a range, `gate` for one commit) find
the changed paths and call these."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from worktree_tools.core.errors import JournalViolation
from worktree_tools.core.statefiles import JOURNAL_CONFIG as CONFIG_FILE
from worktree_tools.journal.config import JournalConfig

MODE_TREE = 0o040000
MODE_FILE = 0o100644
MODE_EXEC = 0o100755
MODE_LINK = 0o120000
MODE_GITLINK = 0o160000
BOM = b"\xef\xbb\xbf"


class Kind(str, Enum):
    DELETED = "deleted"
    RENAMED = "renamed"
    TYPE_CHANGED = "type_changed"
    MODE_CHANGED = "mode_changed"
    REWRITTEN = "rewritten"
    TRUNCATED = "truncated"
    NOT_UTF8 = "not_utf8"
    CARRIAGE_RETURN = "carriage_return"
    NUL_BYTE = "nul_byte"
    BOM = "bom"
    SYMLINK = "symlink"
    EXECUTABLE = "executable"
    SUBMODULE = "submodule"
    CASE_COLLISION = "case_collision"
    BAD_NAME = "bad_name"
    NOT_ANCESTOR = "not_ancestor"
    CHECKPOINT = "checkpoint_mismatch"
    POLICY_LOOSENED = "policy_loosened"


_HINTS = {
    Kind.NOT_ANCESTOR: "history was rewritten: push the old history back and add new commits "
    "on top of it; never force-push a journal",
    Kind.CHECKPOINT: "a checkpointed entry was rewritten: restore it from the checkpointed "
    "commit and record the correction in a new entry",
    Kind.BAD_NAME: "name new entries as journal.namePattern says "
    "(git wt journal append picks a valid name)",
    Kind.CASE_COLLISION: "pick a name that differs from the existing one by more than case "
    "or Unicode normalisation (git wt journal append picks unique names)",
    Kind.NOT_UTF8: "write UTF-8 text with LF line endings and no BOM, NUL or CR",
    Kind.POLICY_LOOSENED: "the journal rules may be widened from below, never narrowed: "
    "restore the protection in a new commit; a person who means it commits the change "
    "(git commit --no-verify) and accepts it where history is verified: "
    "git wt journal verify --accept-policy-change COMMIT (pre-push: "
    "WT_ACCEPT_POLICY_CHANGE=COMMIT git push)",
}
_CONTENT = {Kind.CARRIAGE_RETURN, Kind.NUL_BYTE, Kind.BOM}
_DEFAULT_HINT = (
    "journal entries are append-only: restore the entry as it was in the parent and write "
    "the correction as a new entry (git wt journal append)"
)


@dataclass(frozen=True)
class Violation:
    path: str
    kind: Kind
    detail: str
    commit: str | None = None
    parent: str | None = None

    @property
    def hint(self) -> str:
        if self.kind in _CONTENT:
            return _HINTS[Kind.NOT_UTF8]
        return _HINTS.get(self.kind, _DEFAULT_HINT)

    def at(self, commit: str | None, parent: str | None) -> Violation:
        return Violation(self.path, self.kind, self.detail, commit, parent)

    def line(self) -> str:
        where = f"{self.commit[:12]} " if self.commit else ""
        against = f" (against parent {self.parent[:12]})" if self.parent else ""
        return f"{where}{self.path}: {self.kind.value}: {self.detail}{against}\n  hint: {self.hint}"

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "parent": self.parent,
            "path": self.path,
            "kind": self.kind.value,
            "detail": self.detail,
            "hint": self.hint,
        }


def fold(name: str) -> str:
    """The key under which two names count as the same: NFC, then case-folded."""
    if name.isascii():
        return name.lower()
    return unicodedata.normalize("NFC", name).casefold()


def mode_kind(mode: int) -> Kind | None:
    """Why an entry of this mode cannot be a journal entry, or None for a regular file."""
    if mode == MODE_FILE:
        return None
    if mode == MODE_EXEC:
        return Kind.EXECUTABLE
    if mode == MODE_LINK:
        return Kind.SYMLINK
    if mode == MODE_GITLINK:
        return Kind.SUBMODULE
    return Kind.TYPE_CHANGED


def content_problems(data: bytes, offset: int = 0) -> list[tuple[Kind, str]]:
    """New bytes must be UTF-8 without CR, NUL or a BOM (`offset`: where they start)."""
    out: list[tuple[Kind, str]] = []
    bom = data.find(BOM)
    if bom >= 0:
        out.append((Kind.BOM, f"byte order mark at byte {offset + bom}"))
    for byte, kind, name in ((b"\r", Kind.CARRIAGE_RETURN, "CR"), (b"\0", Kind.NUL_BYTE, "NUL")):
        at = data.find(byte)
        if at >= 0:
            out.append((kind, f"{name} at byte {offset + at}"))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        out.append((Kind.NOT_UTF8, f"invalid UTF-8 at byte {offset + exc.start}"))
    return out


def check_added(
    path: str, mode: int, read: Callable[[], bytes], cfg: JournalConfig
) -> list[Violation]:
    """A journal path that the parent did not have."""
    bad = mode_kind(mode)
    if bad is not None:
        return [Violation(path, bad, f"new entry has mode {mode:06o}")]
    out = [Violation(path, k, d) for k, d in content_problems(read())]
    if cfg.name_pattern is not None and not cfg.name_pattern.search(path):
        out.append(
            Violation(path, Kind.BAD_NAME, f"does not match namePattern {cfg.name_pattern.pattern}")
        )
    return out


def check_changed(
    path: str,
    old_mode: int,
    new_mode: int,
    read_old: Callable[[], bytes],
    read_new: Callable[[], bytes],
    same_blob: bool,
) -> list[Violation]:
    """A journal path present in both parent and child with a different entry."""
    out: list[Violation] = []
    if old_mode == MODE_TREE or new_mode == MODE_TREE:
        return [Violation(path, Kind.TYPE_CHANGED, f"mode {old_mode:06o} -> {new_mode:06o}")]
    if old_mode != new_mode:
        old_link = old_mode in (MODE_LINK, MODE_GITLINK)
        new_link = new_mode in (MODE_LINK, MODE_GITLINK)
        kind = Kind.TYPE_CHANGED if old_link or new_link else Kind.MODE_CHANGED
        out.append(Violation(path, kind, f"mode {old_mode:06o} -> {new_mode:06o}"))
        if kind is Kind.TYPE_CHANGED:
            return out
    if same_blob or new_mode == MODE_GITLINK:
        return out
    old, new = read_old(), read_new()
    if new[: len(old)] != old:
        if len(new) < len(old) and old.startswith(new):
            detail = f"truncated from {len(old)} to {len(new)} bytes"
            out.append(Violation(path, Kind.TRUNCATED, detail))
        else:
            at = first_difference(old, new)
            detail = f"earlier content changed at byte {at} (old size {len(old)})"
            out.append(Violation(path, Kind.REWRITTEN, detail))
        return out
    out += [Violation(path, k, d) for k, d in content_problems(new[len(old) :], len(old))]
    return out


def mark_renames(deleted: list[tuple[str, Any]], added: dict[Any, str]) -> list[Violation]:
    """Deleted paths as violations; one whose blob reappears under a new path is a rename."""
    out: list[Violation] = []
    for path, oid in deleted:
        to = added.get(oid)
        if to is not None:
            out.append(Violation(path, Kind.RENAMED, f"renamed to {to}"))
        else:
            out.append(Violation(path, Kind.DELETED, "an existing entry was deleted"))
    return out


def policy_violations(old: JournalConfig, new: JournalConfig) -> list[Violation]:
    """`policy_loosened` for each way `new` protects less than `old` (its parent's)."""
    return [Violation(CONFIG_FILE, Kind.POLICY_LOOSENED, why) for why in new.loosened_from(old)]


def first_difference(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    lo = 0
    # Binary search on prefix equality: bytes comparison runs in C.
    hi = n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


MAX_SHOWN = 20
MAX_REPORTED = 1000


def violation_error(violations: list[Violation], what: str, **details: Any) -> JournalViolation:
    """The one error every journal check raises: each violation on its own lines."""
    shown = [v.line() for v in violations[:MAX_SHOWN]]
    if len(violations) > MAX_SHOWN:
        shown.append(f"... and {len(violations) - MAX_SHOWN} more (--json lists them)")
    return JournalViolation(
        f"{len(violations)} journal violation(s) {what}:\n" + "\n".join(shown),
        fix="leave existing entries as they were; record corrections as new entries: "
        "git wt journal append --topic correction 'TEXT'",
        violations=[v.to_json() for v in violations[:MAX_REPORTED]],
        violation_count=len(violations),
        **details,
    )
