"""Install, inspect and remove worktree-tools' hook shims, chaining whatever hook was there.

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
from enum import Enum
from pathlib import Path

from worktree_tools.core import atomic, wtlist
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.repo import Worktree

# The hooks `install` manages: adding a hook name here is all it takes to shim one more hook.
MANAGED: tuple[str, ...] = ("pre-commit", "pre-push", "reference-transaction")
CHAINED_SUFFIX = ".wt-chained"
# Where managers move a hook they replace: pre-commit's migration mode runs `<name>.legacy`;
# lefthook keeps `<name>.old`.
DISPLACED_SUFFIXES = (".legacy", ".old")
SUPERSEDED_DIR = "hooks-superseded"
SHIM_MARK = "# worktree-tools hook shim"
# Shells whose scripts the shim sources with $0 set to the hook's installed name.
SH_FAMILY = ("sh", "bash", "dash", "ksh", "zsh")


def shim_text(name: str) -> str:
    """The shim for hook `name`; `hooks/<name>` in the source tree is a copy of this text."""
    if name == "reference-transaction":  # the guard's shell fast path (guard/shim.py)
        from worktree_tools.guard import shim

        return shim.text(SHIM_MARK, CHAINED_SUFFIX)
    return f"""#!/bin/sh
{SHIM_MARK}: {name}
# Installed by `git wt hooks install`; `git wt hooks uninstall` puts back what was here
# (kept meanwhile as {name}{CHAINED_SUFFIX}, which this shim runs as if it were still named
# {name}). git-wt is looked up on PATH (or $WT_GIT_WT) each time, never a path into one
# worktree's virtualenv.
hooks_dir=$(cd "$(dirname "$0")" && pwd)
wt=${{WT_GIT_WT:-git-wt}}
{_under_wt_commit(name)}if command -v "$wt" >/dev/null 2>&1; then
    exec "$wt" hooks run {name} --hooks-dir "$hooks_dir" -- "$@"
else
    echo "worktree-tools: $wt is not on PATH; running the chained {name} hook without its guard" >&2
fi
c="$hooks_dir/{name}{CHAINED_SUFFIX}"
[ -x "$c" ] || exit 0
case "$(head -n 1 "$c")" in
*/bash*|*" bash"*) WT_CHAINED_HOOK="$c" exec bash -c '. "$WT_CHAINED_HOOK"' "$0" "$@" ;;
*/sh|*/sh" "*|*" sh"|*" sh "*) WT_CHAINED_HOOK="$c" exec sh -c '. "$WT_CHAINED_HOOK"' "$0" "$@" ;;
esac
exec "$c" "$@"
"""


def _under_wt_commit(name: str) -> str:
    """The shim's fast path for a hook wt-commit itself runs: wt-commit holds the hook lock and
    applies the journal rules, so the shim has nothing to add to the chained hook and starts no
    Python. The proof is hooks/marker.py's, in shell builtins, at least as strict: the mark
    `PID:NONCE:GITDIR` names our parent, `GITDIR/wt-hooks.json` (written by it before the hook
    started) names that pid, that nonce and our working directory, and the parent started
    before the record (not a reused pid). Anything else, or anything unexpected (another JSON
    layout, no /proc), takes the Python path, which checks the same thing. The chained hook then
    runs as the Python path runs it (sourced with $0 = the hook's name for a shell script)."""
    from worktree_tools.hooks.marker import HELD_ENV, RECORD_NAME

    if name != "pre-commit":
        return ""
    return f"""wt_commit_runs_us() {{
    m=${{{HELD_ENV}:-}}
    pid=${{m%%:*}}; rest=${{m#*:}}; nonce=${{rest%%:*}}; gd=${{rest#*:}}
    [ -n "$m" ] && [ "$pid" = "$PPID" ] && [ -n "$nonce" ] && [ "$rest" != "$m" ] || return 1
    IFS= read -r rec < "$gd/{RECORD_NAME}" || [ -n "$rec" ] || return 1
    case $rec in *'{{"pid": '"$pid"', '*) ;; *) return 1 ;; esac
    case $rec in *'"cwd": "'"$PWD"'", "started": '*) ;; *) return 1 ;; esac
    case $rec in *'"nonce": "'"$nonce"'"}}') ;; *) return 1 ;; esac
    started=${{rec#*'"started": '}}; started=${{started%%[.,]*}}
    case $started in ''|*[!0-9]*) return 1 ;; esac
    read -r st < "/proc/$pid/stat" || return 1
    set -- ${{st##*") "}}
    ticks=${{20}}
    btime=
    while read -r key value; do [ "$key" = btime ] && btime=$value && break; done < /proc/stat
    [ -n "$btime" ] && [ $((btime + ticks / 100)) -le $((started + 1)) ]
}}
if wt_commit_runs_us 2>/dev/null; then
    :  # run by wt-commit: the chained hook alone (below), no Python
el"""


class SlotState(str, Enum):
    ABSENT = "absent"
    INSTALLED = "installed"
    FOREIGN = "foreign"  # someone else's hook we understand (a script)
    UNKNOWN = "unknown"  # a hook we will not move without --chain-unknown
    BYPASSED = "bypassed"  # a manager's reinstall replaced or moved our shim


@dataclass(frozen=True)
class Slot:
    name: str
    path: Path
    state: SlotState
    manager: str | None  # what the present (or chained) hook is
    chained: bool
    displaced: tuple[Path, ...] = ()  # our shim, moved aside by a manager

    @property
    def chained_path(self) -> Path:
        return self.path.with_name(self.name + CHAINED_SUFFIX)

    def to_json(self) -> dict[str, object]:
        return {
            "hook": self.name,
            "path": os.fspath(self.path),
            "state": self.state.value,
            "manager": self.manager,
            "chained": self.chained,
            "displaced": [os.fspath(p) for p in self.displaced],
            "fix": "git wt hooks install" if self.state is SlotState.BYPASSED else None,
        }


def classify(path: Path) -> tuple[str, bool]:
    """(manager, understood) for an existing hook file."""
    if path.is_symlink():
        return "symlink", False
    try:
        head = path.read_bytes()[:8192]
    except OSError:
        return "unreadable", False
    if b"\0" in head or not head.startswith(b"#!"):
        return "binary" if b"\0" in head else "no-shebang", False
    text = head.decode("utf-8", "replace")
    if SHIM_MARK in text:
        return "worktree-tools", True
    for marker, manager in (
        ("File generated by pre-commit", "pre-commit"),
        ("lefthook", "lefthook"),
        ('. "$(dirname "$0")/h"', "husky"),  # husky 9's stub
        ("husky", "husky"),
        ("SKIP_SIMPLE_GIT_HOOKS", "simple-git-hooks"),
    ):
        if marker in text:
            return manager, True
    return "script", True


def interpreter(path: Path) -> list[str] | None:
    """The shell of a sh-family script (`#!/bin/sh`, `#!/usr/bin/env bash`), else None."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(512).decode("utf-8", "replace")
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    words = first[2:].split()
    if words and os.path.basename(words[0]) == "env" and len(words) == 2:
        words = words[1:]
    if len(words) == 1 and os.path.basename(words[0]) in SH_FAMILY:
        return words
    return None


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _is_shim(path: Path) -> bool:
    return _exists(path) and not path.is_symlink() and classify(path)[0] == "worktree-tools"


def inspect(wt: Worktree, name: str, hooks_dir: Path | None = None) -> Slot:
    path = (hooks_dir or wt.hooks_dir) / name
    chained_path = path.with_name(name + CHAINED_SUFFIX)
    chained = _exists(chained_path)
    displaced = tuple(p for s in DISPLACED_SUFFIXES if _is_shim(p := path.with_name(name + s)))
    if not _exists(path):
        state = SlotState.BYPASSED if chained or displaced else SlotState.ABSENT
        return Slot(name, path, state, None, chained, displaced)
    manager, understood = classify(path)
    if manager == "worktree-tools":
        inner = classify(chained_path)[0] if chained else None
        return Slot(name, path, SlotState.INSTALLED, inner, chained, displaced)
    if understood and _tracked(wt, path):
        manager, understood = f"{manager} (tracked by git)", False
    if chained or displaced:
        return Slot(name, path, SlotState.BYPASSED, manager, chained, displaced)
    state = SlotState.FOREIGN if understood else SlotState.UNKNOWN
    return Slot(name, path, state, manager, chained)


def stray_shims(wt: Worktree) -> list[Path]:
    """Shims in the default hooks directory that git no longer runs (core.hooksPath now points
    elsewhere, as husky sets it): installed before a manager moved the hooks."""
    default = wt.commondir / "hooks"
    if default.resolve() == wt.hooks_dir.resolve():
        return []
    return [default / n for n in MANAGED if _is_shim(default / n)]


def _tracked(wt: Worktree, path: Path) -> bool:
    """A hook file inside the worktree that git tracks (husky v4-8 style): moving it would be
    an uncommitted change every agent sees."""
    try:
        rel = path.resolve().relative_to(wt.toplevel.resolve())
    except ValueError:
        return False
    res = wt.git(["ls-files", "--error-unmatch", "--", os.fspath(rel)], literal=True, check=False)
    return res.returncode == 0


@dataclass(frozen=True)
class Change:
    hook: str
    action: str  # installed | chained | repaired | already | restored | removed | absent
    detail: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"hook": self.hook, "action": self.action, "detail": self.detail or None}


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
        if not entry.is_file() or entry.is_symlink() or _is_shim(entry):
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
            changes.append(Change(slot.name, "already", _where(wt, hooks_dir)))
        elif slot.state is SlotState.BYPASSED:
            changes.append(_repair(wt, slot))
        elif slot.state is SlotState.ABSENT:
            _write_shim(slot.path, slot.name)
            changes.append(Change(slot.name, "installed", _where(wt, hooks_dir)))
        else:
            target = slot.chained_path
            os.rename(slot.path, target)
            _write_shim(slot.path, slot.name)
            detail = f"{slot.manager} kept as {target.name}"
            changes.append(Change(slot.name, "chained", _where(wt, hooks_dir, detail)))
    return changes


def _where(wt: Worktree, hooks_dir: Path, detail: str = "") -> str:
    """Name the directory when it is another worktree's."""
    if hooks_dir == wt.hooks_dir:
        return detail
    return f"{detail}{'; ' if detail else ''}in {hooks_dir}"


def _movable(wt: Worktree, slot: Slot) -> bool:
    if slot.state is SlotState.UNKNOWN:
        return False
    if slot.state is SlotState.BYPASSED and _exists(slot.path):
        return classify(slot.path)[1] and not _tracked(wt, slot.path)
    return True


def _repair(wt: Worktree, slot: Slot) -> Change:
    """A manager reinstalled over our chain: its new hook becomes the chained one."""
    notes: list[str] = []
    legacy = slot.path.with_name(slot.name + ".legacy")
    if slot.chained and _exists(slot.path):  # (shim merely deleted: the chain stands as it was)
        notes.append(_settle_old_chained(wt, slot, legacy, keep_in_legacy=True))
    for p in slot.displaced:
        if p.exists() and _is_shim(p):
            p.unlink()
    if _exists(slot.path):
        os.rename(slot.path, slot.chained_path)
        notes.insert(0, f"{slot.manager}'s reinstalled hook kept as {slot.chained_path.name}")
    _write_shim(slot.path, slot.name)
    return Change(slot.name, "repaired", "; ".join(n for n in notes if n))


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
        if _exists(chained):
            os.replace(chained, stray)
        else:
            stray.unlink()
        changes.append(Change(stray.name, "removed", f"unused shim {stray}"))
    return changes


def _uninstall_slot(wt: Worktree, slot: Slot) -> Change:
    name = slot.name
    if slot.state is SlotState.INSTALLED:
        for p in slot.displaced:
            p.unlink()
        if slot.chained:
            os.replace(slot.chained_path, slot.path)
            return Change(name, "restored", f"{slot.manager} put back")
        slot.path.unlink()
        return Change(name, "removed")
    if slot.state is SlotState.BYPASSED:
        # What the manager now expects: its hook stays where it put it; our shim goes.
        legacy = slot.path.with_name(name + ".legacy")
        note = ""
        if slot.chained and not _exists(slot.path):  # the shim was deleted: put back the hook
            os.replace(slot.chained_path, slot.path)
            note = "put back the hook it chained"
        elif slot.chained:
            note = _settle_old_chained(wt, slot, legacy, keep_in_legacy=True)
        for p in slot.displaced:
            if _is_shim(p):
                p.unlink()
        if not _exists(slot.path) and _exists(legacy) and not _is_shim(legacy):
            os.replace(legacy, slot.path)
        return Change(name, "restored", f"kept {slot.manager}'s hook; {note}".rstrip("; "))
    return Change(name, "absent", "no worktree-tools shim here")


def _write_shim(path: Path, name: str) -> None:
    atomic.write_text(path, shim_text(name), durable=True, mode=0o755)
