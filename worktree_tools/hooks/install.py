"""Install and remove worktree-tools' hook shims, chaining whatever hook was there.

An existing hook (the pre-commit framework's, husky's, lefthook's, simple-git-hooks', a
hand-written script) is renamed `<name>.wt-chained` and the shim runs it so that it sees the
name it was installed under (husky's stubs dispatch on their own file name). Uninstall renames it
back, byte for byte. The shim finds `git-wt` on PATH when it runs and never records a path into
one worktree's virtualenv (RACES R15). A hook we cannot read as a script (a binary, a symlink, a
file git tracks) is left alone unless the caller says `--chain-unknown`.

Managers reinstall their hooks (`npm install` runs husky, `pre-commit install`, `lefthook
install`): the shim is then overwritten or moved aside (`.legacy`, `.old`) and the slot is
`bypassed`. `install` repairs it (the manager's new hook becomes the chained one; a chained hook
it supersedes is kept under `<common git dir>/wt/hooks-superseded/`), and `uninstall` leaves what
the manager now expects.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from worktree_tools.core import atomic, wtlist
from worktree_tools.core.enums import WordEnum
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.repo import Worktree
from worktree_tools.hooks.shimtext import CHAINED_SUFFIX, shim_text
from worktree_tools.hooks.slots import (
    MANAGED,
    Slot,
    SlotState,
    classify,
    exists,
    inspect,
    is_shim,
    stray_shims,
    tracked,
)

SUPERSEDED_DIR = "hooks-superseded"


class HookAction(WordEnum):
    """What install or uninstall did to one hook slot."""

    INSTALLED = "installed"
    CHAINED = "chained"  # another manager's hook kept, run by our shim
    REPAIRED = "repaired"  # a manager's reinstall undone: its new hook chained
    ALREADY = "already"
    RESTORED = "restored"  # the chained hook put back
    REMOVED = "removed"
    ABSENT = "absent"  # no shim of ours there


@dataclass(frozen=True)
class Change:
    hook: str
    action: HookAction
    detail: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"hook": self.hook, "action": self.action.value, "detail": self.detail or None}


def install(wt: Worktree, *, chain_unknown: bool = False) -> list[Change]:
    """Install the shims where git runs this worktree's hooks, and, when that directory is per
    worktree (a relative core.hooksPath such as husky's git-ignored `.husky/_`), in every other
    worktree's too: a worktree without it would run no hook at all."""
    others = worktree_hook_dirs(wt)
    changes = _install_into(wt, wt.hooks_dir, chain_unknown)
    for hooks_dir in others:
        if not hooks_dir.is_dir():
            _copy_manager_files(wt.hooks_dir, hooks_dir)
        changes += _install_into(wt, hooks_dir, chain_unknown)
    return changes


def worktree_hook_dirs(wt: Worktree) -> list[Path]:
    """The hooks directories of the repository's other worktrees, when they differ from this
    one's (a relative core.hooksPath); empty when all worktrees share one."""
    from worktree_tools.core.gitcmd import clean_env, git

    if not _relative_hooks_path(wt):
        return []
    res = wt.git(["worktree", "list", "--porcelain", "-z"], check=False)
    out: list[Path] = []
    for listed in wtlist.parse(res.out):
        top = Path(listed.path)
        if top == wt.toplevel or wt.state_dir in top.parents or not top.is_dir():
            continue  # this one; a hook checkout of an older version; a vanished directory
        got = git(["rev-parse", "--path-format=absolute", "--git-path", "hooks"], cwd=top,
                  env=clean_env(), check=False)  # fmt: skip
        path = Path(got.out.strip())
        if got.returncode == 0 and path != wt.hooks_dir and top in path.parents:
            out.append(path)
    return out


def _relative_hooks_path(wt: Worktree) -> bool:
    value = wt.git(["config", "--get", "core.hooksPath"], check=False).out.strip()
    return bool(value) and not os.path.isabs(os.path.expanduser(value))


def _copy_manager_files(source: Path, target: Path) -> None:
    """What the manager made in `source` (husky: its runtime `h` and one stub per hook), as it
    would make it in `target`: its hooks under their own names, none of our shims."""
    target.mkdir(parents=True)
    for entry in sorted(source.iterdir()):
        if not entry.is_file() or entry.is_symlink() or is_shim(entry):
            continue
        name = entry.name.removesuffix(CHAINED_SUFFIX)
        data = entry.read_bytes()
        dest = target / name
        dest.write_bytes(data)
        os.chmod(dest, stat.S_IMODE(entry.stat().st_mode))


def _install_into(wt: Worktree, hooks_dir: Path, chain_unknown: bool) -> list[Change]:
    slots = [inspect(wt, n, hooks_dir) for n in MANAGED]
    refused = [s for s in slots if not _movable(wt, s)] if not chain_unknown else []
    if refused:  # decide everything before touching anything
        raise InvalidInput(
            "refusing to move hooks it does not understand: "
            + ", ".join(f"{s.path} ({s.manager})" for s in refused),
            fix="inspect them, then: git wt hooks install --chain-unknown",
        )
    hooks_dir.mkdir(parents=True, exist_ok=True)
    changes: list[Change] = []
    for slot in slots:
        if slot.state is SlotState.INSTALLED:
            _write_shim(slot.path, slot.name)  # refresh the text; idempotent
            for p in slot.displaced:
                p.unlink()
            changes.append(Change(slot.name, HookAction.ALREADY, _where(wt, hooks_dir)))
        elif slot.state is SlotState.BYPASSED:
            changes.append(_repair(wt, slot))
        elif slot.state is SlotState.ABSENT:
            _write_shim(slot.path, slot.name)
            changes.append(Change(slot.name, HookAction.INSTALLED, _where(wt, hooks_dir)))
        else:
            target = slot.chained_path
            os.rename(slot.path, target)
            _write_shim(slot.path, slot.name)
            detail = f"{slot.manager} kept as {target.name}"
            changes.append(Change(slot.name, HookAction.CHAINED, _where(wt, hooks_dir, detail)))
    return changes


def _where(wt: Worktree, hooks_dir: Path, detail: str = "") -> str:
    """Name the directory when it is another worktree's."""
    if hooks_dir == wt.hooks_dir:
        return detail
    return f"{detail}{'; ' if detail else ''}in {hooks_dir}"


def _movable(wt: Worktree, slot: Slot) -> bool:
    if slot.state is SlotState.UNKNOWN:
        return False
    if slot.state is SlotState.BYPASSED and exists(slot.path):
        return classify(slot.path)[1] and not tracked(wt, slot.path)
    return True


def _repair(wt: Worktree, slot: Slot) -> Change:
    """A manager reinstalled over our chain: its new hook becomes the chained one."""
    notes: list[str] = []
    legacy = slot.path.with_name(slot.name + ".legacy")
    if slot.chained and exists(slot.path):  # (shim merely deleted: the chain stands as it was)
        notes.append(_settle_old_chained(wt, slot, legacy, keep_in_legacy=True))
    for p in slot.displaced:
        if p.exists() and is_shim(p):
            p.unlink()
    if exists(slot.path):
        os.rename(slot.path, slot.chained_path)
        notes.insert(0, f"{slot.manager}'s reinstalled hook kept as {slot.chained_path.name}")
    _write_shim(slot.path, slot.name)
    return Change(slot.name, HookAction.REPAIRED, "; ".join(n for n in notes if n))


def _settle_old_chained(wt: Worktree, slot: Slot, legacy: Path, *, keep_in_legacy: bool) -> str:
    """The hook we chained before the manager's reinstall. Superseded by the manager's new hook
    (same manager, or nowhere left to run it): kept under the state dir. A different hook the
    pre-commit framework will run from `<name>.legacy` (where it moved our shim): put there."""
    old = slot.chained_path
    old_manager = classify(old)[0]
    if (
        keep_in_legacy and slot.manager == "pre-commit" and legacy in slot.displaced
        and old_manager not in ("pre-commit", "worktree-tools")
    ):  # fmt: skip
        os.replace(old, legacy)
        return f"the {old_manager} hook it chained before now runs as {legacy.name}"
    kept = wt.state_dir / SUPERSEDED_DIR / f"{int(time.time())}-{os.getpid()}-{slot.name}"
    kept.parent.mkdir(parents=True, exist_ok=True)
    os.replace(old, kept)
    return f"the {old_manager} hook it chained before was superseded; kept at {kept}"


def uninstall(wt: Worktree) -> list[Change]:
    changes: list[Change] = []
    for hooks_dir in [wt.hooks_dir, *worktree_hook_dirs(wt)]:
        for name in MANAGED:
            changes.append(_uninstall_slot(wt, inspect(wt, name, hooks_dir)))
    for stray in stray_shims(wt):
        chained = stray.with_name(stray.name + CHAINED_SUFFIX)
        if exists(chained):
            os.replace(chained, stray)
        else:
            stray.unlink()
        changes.append(Change(stray.name, HookAction.REMOVED, f"unused shim {stray}"))
    return changes


def _uninstall_slot(wt: Worktree, slot: Slot) -> Change:
    name = slot.name
    if slot.state is SlotState.INSTALLED:
        for p in slot.displaced:
            p.unlink()
        if slot.chained:
            os.replace(slot.chained_path, slot.path)
            return Change(name, HookAction.RESTORED, f"{slot.manager} put back")
        slot.path.unlink()
        return Change(name, HookAction.REMOVED)
    if slot.state is SlotState.BYPASSED:
        # What the manager now expects: its hook stays where it put it; our shim goes.
        legacy = slot.path.with_name(name + ".legacy")
        note = ""
        if slot.chained and not exists(slot.path):  # the shim was deleted: put back the hook
            os.replace(slot.chained_path, slot.path)
            note = "put back the hook it chained"
        elif slot.chained:
            note = _settle_old_chained(wt, slot, legacy, keep_in_legacy=True)
        for p in slot.displaced:
            if is_shim(p):
                p.unlink()
        if not exists(slot.path) and exists(legacy) and not is_shim(legacy):
            os.replace(legacy, slot.path)
        return Change(name, HookAction.RESTORED, f"kept {slot.manager}'s hook; {note}".rstrip("; "))
    return Change(name, HookAction.ABSENT, "no worktree-tools shim here")


def _write_shim(path: Path, name: str) -> None:
    atomic.write_text(path, shim_text(name), durable=True, mode=0o755)
