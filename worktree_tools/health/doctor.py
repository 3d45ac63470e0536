"""`git wt doctor`: find, and with --fix safely repair, what crashes and careless tools leave.

Every repair is logged to the event log and none discards a byte: a stale lock is removed only
on proof that no live process holds it; a stranded pre-commit patch is re-applied only when it
applies cleanly, and is kept (copied under the common git dir) either way; a leaked setting's
old value is printed with the command that puts it back.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.core import events, gitlocks, wtlist
from worktree_tools.core.enums import WordEnum
from worktree_tools.core.repo import Worktree
from worktree_tools.hooks import run as hookrun

PREFIX = "wt:"


class DoctorKind(WordEnum):
    """What doctor found (watch turns these into its own findings' kinds, health/findings.py)."""

    STALE_LOCK = "stale_lock"
    LIVE_LOCK = "live_lock"
    STRANDED_PATCH = "stranded_patch"
    LEAKED_CONFIG = "leaked_config"
    ORPHAN_HOOK = "orphan_hook"
    ORPHAN_HOOK_UNPROVEN = "orphan_hook_unproven"
    HOOKS_BYPASSED = "hooks_bypassed"
    HOOK_STASH_LEFTOVER = "hook_stash_leftover"
    GC_LEFTOVER = "gc_leftover"
    CORRUPT_RECORD = "corrupt_record"


@dataclass
class DoctorFinding:
    kind: DoctorKind
    subject: str
    detail: str
    fixable: bool
    fixed: bool = False
    undo: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "subject": self.subject,
            "detail": self.detail,
            "fixable": self.fixable,
            "fixed": self.fixed,
            "undo": self.undo,
            **self.extra,
        }


def worktree_dirs(wt: Worktree, *, lock: bool = True) -> list[tuple[Path, Path]]:
    """(toplevel, gitdir) of every worktree of the repository, hook checkouts included; one
    whose directory is gone is left out (nothing of it to examine). `git worktree list` fails on
    an entry another process is half-way through adding, so the listing takes the admin lock;
    `lock=False` is for a watcher, which must take no lock and write nothing."""
    if lock:
        import time

        from worktree_tools.core.locks import ADMIN_LOCK, Holder, RecordedLock, lock_timeout

        admin = RecordedLock(
            wt.state_dir / ADMIN_LOCK, "worktree-admin lock", Holder.me("doctor"),
            time.monotonic() + lock_timeout(None),
        )  # fmt: skip
        with admin:
            listing = wtlist.worktree_list(wt)
    else:
        listing = wtlist.worktree_list(wt)
    out: list[tuple[Path, Path]] = []
    for listed in listing:
        top = Path(listed.path)
        git_file = top / ".git"
        if git_file.is_file():
            text = git_file.read_text(encoding="utf-8").strip()
            gitdir = Path(text.removeprefix("gitdir: "))
            if not gitdir.is_absolute():
                gitdir = (top / gitdir).resolve()
        elif git_file.is_dir():  # the main worktree
            gitdir = wt.commondir
        else:
            continue
        out.append((top, gitdir))
    return out


def examine(wt: Worktree, *, fix: bool, agent: str) -> list[DoctorFinding]:
    from worktree_tools.health import patches  # it builds on this module's findings

    findings: list[DoctorFinding] = []
    dirs = worktree_dirs(wt)
    findings += _locks(wt, dirs, fix=fix, agent=agent)
    findings += _orphans(wt, dirs, fix=fix, agent=agent)
    findings += patches.findings(wt, dirs, fix=fix, agent=agent)
    findings += config_findings(wt, linked=len(dirs) > 1, fix=fix, agent=agent)
    findings += hook_findings(wt, fix=fix, agent=agent)
    findings += gc_leftovers(wt, dirs)
    return findings


def hook_findings(wt: Worktree, *, fix: bool, agent: str) -> list[DoctorFinding]:
    """Shims a manager's reinstall has overwritten, moved aside or bypassed (husky moving
    core.hooksPath), and hook-manager backups left in the shared stash."""
    from worktree_tools.hooks import install as hookinstall
    from worktree_tools.hooks import slots as hookslots

    out: list[DoctorFinding] = []
    bypassed = [s for s in (hookslots.inspect(wt, n) for n in hookslots.MANAGED)
                if s.state is hookslots.SlotState.BYPASSED]  # fmt: skip
    stray = hookslots.stray_shims(wt)
    for slot in bypassed:
        out.append(DoctorFinding(
            DoctorKind.HOOKS_BYPASSED, os.fspath(slot.path),
            f"{slot.manager or 'nothing'} is in place of the worktree-tools shim (a manager "
            "reinstalled its hook), so commits here run without the hook lock; restore the "
            "chain with: git wt hooks install",
            fixable=True, extra={"fix": "git wt hooks install"},
        ))  # fmt: skip
    if (
        stray
        and not bypassed
        and hookslots.inspect(wt, stray[0].name).state is not (hookslots.SlotState.INSTALLED)
    ):
        out.append(DoctorFinding(
            DoctorKind.HOOKS_BYPASSED, os.fspath(stray[0]),
            f"git runs hooks from {wt.hooks_dir} (core.hooksPath), not from "
            f"{stray[0].parent} where the shims are; restore the chain with: git wt hooks install",
            fixable=True, extra={"fix": "git wt hooks install"},
        ))  # fmt: skip
    if fix and any(f.kind is DoctorKind.HOOKS_BYPASSED for f in out):
        changes = hookinstall.install(wt)
        for f in out:
            f.fixed = True
            f.undo = "git wt hooks uninstall"
        events.append(wt.state_dir, "hooks_repaired", agent, by="doctor",
                      changes=[c.to_json() for c in changes])  # fmt: skip
    out += _hook_stash_leftovers(wt)
    return out


HOOK_STASH_LABELS = ("lint-staged automatic backup", "lefthook auto backup")


def _hook_stash_leftovers(wt: Worktree) -> list[DoctorFinding]:
    """Backups a hook manager left in the stash every worktree shares (a killed run): someone's
    later `git stash pop` would apply it."""
    res = wt.git(["stash", "list", "--format=%gd%x00%H%x00%gs"], check=False)
    out: list[DoctorFinding] = []
    for line in res.out.splitlines():
        parts = line.split("\0")
        if len(parts) == 3 and any(label in parts[2] for label in HOOK_STASH_LABELS):
            out.append(DoctorFinding(
                DoctorKind.HOOK_STASH_LEFTOVER, parts[0],
                f"{parts[2]!r} ({parts[1][:12]}) is a hook manager's backup left in the shared "
                "stash; look before dropping it",
                fixable=False, extra={"fix": f"git stash show -p {parts[1]}"},
            ))  # fmt: skip
    return out


def gc_leftovers(wt: Worktree, dirs: list[tuple[Path, Path]]) -> list[DoctorFinding]:
    """Directories a killed (or hindered) gc left renamed aside: their files may be the only
    copy of someone's work. `git wt gc` saves and removes them (never doctor)."""
    from worktree_tools.worktrees import leftovers
    from worktree_tools.worktrees.common import Repo

    near = [Repo(wt, "doctor", 0.0).placement(), *(top.parent for top, _gitdir in dirs)]
    out: list[DoctorFinding] = []
    for lo in leftovers.find(wt.state_dir, leftovers.places(wt.state_dir, near)):
        owner = f"{lo.agent}'s worktree" if lo.agent else "the worktree"
        out.append(
            DoctorFinding(
                DoctorKind.GC_LEFTOVER,
                os.fspath(lo.aside),
                f"{owner} {lo.path} was renamed aside by gc pid {lo.pid}, which did not finish; "
                "its files are still there: run `git wt gc` to save them in a rescue ref and "
                "remove the directory",
                fixable=False,
                extra=lo.to_json(),
            )
        )
    for where, message in leftovers.corrupt(wt.state_dir):
        out.append(DoctorFinding(DoctorKind.GC_LEFTOVER, where, message, fixable=False))
    return out


Candidate = tuple[Path, list[Path], list[Path]]  # lock, where holders work, nested exceptions


def _lock_candidates(wt: Worktree, dirs: list[tuple[Path, Path]]) -> list[Candidate]:
    found: list[Candidate] = []
    everywhere = [d for pair in dirs for d in pair]
    for top, gitdir in dirs:
        for name in ("index.lock", "HEAD.lock"):
            if (gitdir / name).exists():  # held by git working in that worktree only
                found.append((gitdir / name, [top, gitdir], [wt.state_dir]))
    for name in ("config.lock", "packed-refs.lock", "shallow.lock"):
        if (wt.commondir / name).exists():
            found.append((wt.commondir / name, everywhere, []))
    refs = wt.commondir / "refs"
    for path in refs.rglob("*.lock"):
        found.append((path, everywhere, []))
    return found


def _locks(
    wt: Worktree, dirs: list[tuple[Path, Path]], *, fix: bool, agent: str
) -> list[DoctorFinding]:
    out: list[DoctorFinding] = []
    for lock, search, exclude in _lock_candidates(wt, dirs):
        if not lock.exists():
            continue  # gone between listing and judging: nothing to report
        held, who = gitlocks.holders(lock, search, exclude)
        if held:
            out.append(
                DoctorFinding(
                    DoctorKind.LIVE_LOCK, os.fspath(lock), f"held by {who}", fixable=False
                )
            )
            continue
        finding = DoctorFinding(
            DoctorKind.STALE_LOCK, os.fspath(lock), f"stale: {who}", fixable=True
        )
        if fix:

            def report(info: dict[str, Any]) -> None:
                events.append(wt.state_dir, "stale_lock_removed", agent, by="doctor", **info)

            finding.fixed = gitlocks.remove_if_stale(lock, search, report, exclude)
        out.append(finding)
    return out


def _orphans(
    wt: Worktree, dirs: list[tuple[Path, Path]], *, fix: bool, agent: str
) -> list[DoctorFinding]:
    out: list[DoctorFinding] = []
    for _top, gitdir in dirs:
        record = gitdir / hookrun.RECORD_NAME
        orphans = hookrun.find_orphans(record) if record.exists() else None
        if orphans is None or not (orphans.pids or orphans.unproven):
            continue
        if not orphans.pids:
            # A stale or forged record: what it names is not proven to be that hook (its
            # session, start time and nonce do not match), so nothing is ended.
            out.append(DoctorFinding(
                DoctorKind.ORPHAN_HOOK_UNPROVEN,
                os.fspath(record),
                f"record of dead wt-commit pid {orphans.committer_pid} names process group "
                f"{orphans.pgid} ({orphans.unproven}), which is not proven to be its "
                f"{orphans.hook} hook; left running",
                fixable=False,
                extra={"pids": [], "unproven": orphans.unproven,
                       "fix": f"look at: ps -o pid,lstart,args -g {orphans.pgid}"},
            ))  # fmt: skip
            continue
        finding = DoctorFinding(
            DoctorKind.ORPHAN_HOOK,
            os.fspath(record),
            f"{orphans.hook} hook processes {orphans.pids} of dead wt-commit "
            f"pid {orphans.committer_pid}",
            fixable=True,
            extra={"pids": orphans.pids, "unproven": orphans.unproven},
        )
        if fix:
            ended = hookrun.reap_orphans(record)
            finding.fixed = True
            events.append(
                wt.state_dir, "orphan_hook_ended", agent, by="doctor", hook=orphans.hook,
                pids=ended.pids if ended else [],
            )  # fmt: skip
        out.append(finding)
    return out


def config_findings(wt: Worktree, *, linked: bool, fix: bool, agent: str) -> list[DoctorFinding]:
    """Settings leaked into the shared config that act on every worktree (`linked`: the
    repository has linked worktrees, so one worktree's setting is everyone's)."""
    out: list[DoctorFinding] = []
    if not linked:
        return out
    common = os.fspath(wt.commondir / "config")
    res = wt.git(["config", "--file", common, "--get", "core.worktree"], check=False)
    value = res.out.strip()
    if value:
        finding = DoctorFinding(
            DoctorKind.LEAKED_CONFIG,
            "core.worktree",
            f"core.worktree={value} in the shared config points every worktree at one directory",
            fixable=True,
            undo=f"git config --file {common} core.worktree {value}",
        )
        if fix:
            wt.git(["config", "--file", common, "--unset", "core.worktree"])
            finding.fixed = True
            events.append(wt.state_dir, "config_repaired", agent, key="core.worktree", old=value)
        out.append(finding)
    out += identity_findings(wt)
    return out


def identity_findings(wt: Worktree) -> list[DoctorFinding]:
    """A repository-local identity is the usual setup; only a change since the fleet began
    (the baseline the first `git wt alloc` recorded) is reported, with its likely writer."""
    from worktree_tools.core import identity
    from worktree_tools.core.errors import CorruptState

    try:
        baseline, changed = identity.changes(wt)
    except CorruptState as err:
        return [DoctorFinding(DoctorKind.CORRUPT_RECORD, err.path, err.message, fixable=False)]
    out: list[DoctorFinding] = []
    for change in changed:
        assert baseline is not None
        config = shlex.quote(os.fspath(wt.commondir / "config"))
        restore = (
            f"git config --file {config} {change.key} {shlex.quote(change.before)}"
            if change.before is not None
            else f"git config --file {config} --unset {change.key}"
        )
        out.append(
            DoctorFinding(
                DoctorKind.LEAKED_CONFIG,
                change.key,
                change.detail(baseline),
                fixable=False,
                undo=restore,
                extra={"before": change.before, "now": change.now, "writer": change.suspect},
            )
        )
    return out
