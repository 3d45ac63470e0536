"""`git wt doctor`: find, and with --fix safely repair, what crashes and careless tools leave.

Every repair is logged to the event log and none discards a byte: a stale lock is removed only
on proof that no live process holds it; a stranded pre-commit patch is re-applied only when it
applies cleanly, and is kept (copied under the common git dir) either way; a leaked setting's
old value is printed with the command that puts it back.
"""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.core import events, gitlocks, wtlist
from worktree_tools.core.repo import Worktree
from worktree_tools.hooks import run as hookrun

PREFIX = "wt:"


@dataclass
class Finding:
    # stale_lock | stranded_patch | leaked_config | orphan_hook | orphan_hook_unproven |
    # live_lock | hooks_bypassed | hook_stash_leftover | gc_leftover
    kind: str
    subject: str
    detail: str
    fixable: bool
    fixed: bool = False
    undo: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
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


def examine(wt: Worktree, *, fix: bool, agent: str) -> list[Finding]:
    findings: list[Finding] = []
    dirs = worktree_dirs(wt)
    findings += _locks(wt, dirs, fix=fix, agent=agent)
    findings += _orphans(wt, dirs, fix=fix, agent=agent)
    findings += _patches(wt, dirs, fix=fix, agent=agent)
    findings += config_findings(wt, linked=len(dirs) > 1, fix=fix, agent=agent)
    findings += hook_findings(wt, fix=fix, agent=agent)
    findings += gc_leftovers(wt, dirs)
    return findings


def hook_findings(wt: Worktree, *, fix: bool, agent: str) -> list[Finding]:
    """Shims a manager's reinstall has overwritten, moved aside or bypassed (husky moving
    core.hooksPath), and hook-manager backups left in the shared stash."""
    from worktree_tools.hooks import install as hookinstall

    out: list[Finding] = []
    bypassed = [s for s in (hookinstall.inspect(wt, n) for n in hookinstall.MANAGED)
                if s.state is hookinstall.SlotState.BYPASSED]  # fmt: skip
    stray = hookinstall.stray_shims(wt)
    for slot in bypassed:
        out.append(Finding(
            "hooks_bypassed", os.fspath(slot.path),
            f"{slot.manager or 'nothing'} is in place of the worktree-tools shim (a manager "
            "reinstalled its hook), so commits here run without the hook lock; restore the "
            "chain with: git wt hooks install",
            fixable=True, extra={"fix": "git wt hooks install"},
        ))  # fmt: skip
    if (
        stray
        and not bypassed
        and hookinstall.inspect(wt, stray[0].name).state is not (hookinstall.SlotState.INSTALLED)
    ):
        out.append(Finding(
            "hooks_bypassed", os.fspath(stray[0]),
            f"git runs hooks from {wt.hooks_dir} (core.hooksPath), not from "
            f"{stray[0].parent} where the shims are; restore the chain with: git wt hooks install",
            fixable=True, extra={"fix": "git wt hooks install"},
        ))  # fmt: skip
    if fix and any(f.kind == "hooks_bypassed" for f in out):
        changes = hookinstall.install(wt)
        for f in out:
            f.fixed = True
            f.undo = "git wt hooks uninstall"
        events.append(wt.state_dir, "hooks_repaired", agent, by="doctor",
                      changes=[c.to_json() for c in changes])  # fmt: skip
    out += _hook_stash_leftovers(wt)
    return out


HOOK_STASH_LABELS = ("lint-staged automatic backup", "lefthook auto backup")


def _hook_stash_leftovers(wt: Worktree) -> list[Finding]:
    """Backups a hook manager left in the stash every worktree shares (a killed run): someone's
    later `git stash pop` would apply it."""
    res = wt.git(["stash", "list", "--format=%gd%x00%H%x00%gs"], check=False)
    out: list[Finding] = []
    for line in res.out.splitlines():
        parts = line.split("\0")
        if len(parts) == 3 and any(label in parts[2] for label in HOOK_STASH_LABELS):
            out.append(Finding(
                "hook_stash_leftover", parts[0],
                f"{parts[2]!r} ({parts[1][:12]}) is a hook manager's backup left in the shared "
                "stash; look before dropping it",
                fixable=False, extra={"fix": f"git stash show -p {parts[1]}"},
            ))  # fmt: skip
    return out


def gc_leftovers(wt: Worktree, dirs: list[tuple[Path, Path]]) -> list[Finding]:
    """Directories a killed (or hindered) gc left renamed aside: their files may be the only
    copy of someone's work. `git wt gc` saves and removes them (never doctor)."""
    from worktree_tools.worktrees import leftovers
    from worktree_tools.worktrees.common import Repo

    near = [Repo(wt, "doctor", 0.0).placement(), *(top.parent for top, _gitdir in dirs)]
    out: list[Finding] = []
    for lo in leftovers.find(wt.state_dir, leftovers.places(wt.state_dir, near)):
        owner = f"{lo.agent}'s worktree" if lo.agent else "the worktree"
        out.append(
            Finding(
                "gc_leftover",
                os.fspath(lo.aside),
                f"{owner} {lo.path} was renamed aside by gc pid {lo.pid}, which did not finish; "
                "its files are still there: run `git wt gc` to save them in a rescue ref and "
                "remove the directory",
                fixable=False,
                extra=lo.to_json(),
            )
        )
    for where, message in leftovers.corrupt(wt.state_dir):
        out.append(Finding("gc_leftover", where, message, fixable=False))
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


def _locks(wt: Worktree, dirs: list[tuple[Path, Path]], *, fix: bool, agent: str) -> list[Finding]:
    out: list[Finding] = []
    for lock, search, exclude in _lock_candidates(wt, dirs):
        if not lock.exists():
            continue  # gone between listing and judging: nothing to report
        held, who = gitlocks.holders(lock, search, exclude)
        if held:
            out.append(Finding("live_lock", os.fspath(lock), f"held by {who}", fixable=False))
            continue
        finding = Finding("stale_lock", os.fspath(lock), f"stale: {who}", fixable=True)
        if fix:

            def report(info: dict[str, Any]) -> None:
                events.append(wt.state_dir, "stale_lock_removed", agent, by="doctor", **info)

            finding.fixed = gitlocks.remove_if_stale(lock, search, report, exclude)
        out.append(finding)
    return out


def _orphans(
    wt: Worktree, dirs: list[tuple[Path, Path]], *, fix: bool, agent: str
) -> list[Finding]:
    out: list[Finding] = []
    for _top, gitdir in dirs:
        record = gitdir / hookrun.RECORD_NAME
        orphans = hookrun.find_orphans(record) if record.exists() else None
        if orphans is None or not (orphans.pids or orphans.unproven):
            continue
        if not orphans.pids:
            # A stale or forged record: what it names is not proven to be that hook (its
            # session, start time and nonce do not match), so nothing is ended.
            out.append(Finding(
                "orphan_hook_unproven",
                os.fspath(record),
                f"record of dead wt-commit pid {orphans.committer_pid} names process group "
                f"{orphans.pgid} ({orphans.unproven}), which is not proven to be its "
                f"{orphans.hook} hook; left running",
                fixable=False,
                extra={"pids": [], "unproven": orphans.unproven,
                       "fix": f"look at: ps -o pid,lstart,args -g {orphans.pgid}"},
            ))  # fmt: skip
            continue
        finding = Finding(
            "orphan_hook",
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


def pre_commit_cache() -> Path:
    if os.environ.get("PRE_COMMIT_HOME"):
        return Path(os.environ["PRE_COMMIT_HOME"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pre-commit"


def _patches(
    wt: Worktree, dirs: list[tuple[Path, Path]], *, fix: bool, agent: str
) -> list[Finding]:
    """pre-commit's `patch<epoch>-<pid>` files whose changes are missing from a worktree of
    ours: they apply cleanly there and are not applied already (RACES R3).

    A patch cannot tell "stranded by a killed commit" from "restored, then discarded on purpose"
    (pre-commit never deletes its patches), so the repair never writes into a live worktree: it
    secures the patch in the repository (the per-user cache is cleaned by `pre-commit clean`) and
    names the command that applies it. A patch whose pre-commit run is still alive is skipped."""
    cache = pre_commit_cache()
    if not cache.is_dir():
        return []
    out: list[Finding] = []
    hook_root = wt.state_dir / "hook-worktrees"  # linked hook checkouts of older versions
    kept_dir = wt.state_dir / "rescued-patches"
    for patch in sorted(cache.glob("patch*")):
        if _writer_alive(patch.name):
            continue  # a pre-commit run is between its stash and its restore right now
        keep = kept_dir / patch.name
        if keep.exists() and keep.read_bytes() == patch.read_bytes():
            continue  # secured by an earlier --fix; the apply command was given then
        for top, _gitdir in dirs:
            if hook_root in top.parents:
                continue  # hook checkouts are reset before every use
            applies = _apply(top, patch, reverse=False)
            applied = _apply(top, patch, reverse=True)
            if not applies or applied:
                continue
            finding = Finding(
                "stranded_patch",
                os.fspath(patch),
                f"unstaged changes saved by pre-commit that are not in {top} (stranded by a "
                "killed commit, or restored and discarded since: look before applying)",
                fixable=True,
                undo=None,
                extra={"worktree": os.fspath(top), "apply": f"git -C {top} apply {keep}"},
            )
            if fix:
                kept_dir.mkdir(parents=True, exist_ok=True)
                shutil.copy2(patch, keep)
                finding.fixed = True
                events.append(
                    wt.state_dir, "stranded_patch_secured", agent, patch=os.fspath(patch),
                    kept=os.fspath(keep), worktree=os.fspath(top),
                )  # fmt: skip
            out.append(finding)
            break
    return out


def _writer_alive(name: str) -> bool:
    """pre-commit names its patch `patch<epoch>-<pid>`: is that pid still running?"""
    pid = name.rpartition("-")[2]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _apply(top: Path, patch: Path, *, reverse: bool) -> bool:
    """Whether `patch` would apply (or, `reverse`, is applied already) in worktree `top`."""
    from worktree_tools.core.gitcmd import clean_env, git

    args = ["apply", "--check", "--whitespace=nowarn", *(["-R"] if reverse else [])]
    res = git([*args, os.fspath(patch)], cwd=top, env=clean_env(), check=False)
    return res.returncode == 0


def config_findings(wt: Worktree, *, linked: bool, fix: bool, agent: str) -> list[Finding]:
    """Settings leaked into the shared config that act on every worktree (`linked`: the
    repository has linked worktrees, so one worktree's setting is everyone's)."""
    out: list[Finding] = []
    if not linked:
        return out
    common = os.fspath(wt.commondir / "config")
    res = wt.git(["config", "--file", common, "--get", "core.worktree"], check=False)
    value = res.out.strip()
    if value:
        finding = Finding(
            "leaked_config",
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


def identity_findings(wt: Worktree) -> list[Finding]:
    """A repository-local identity is the usual setup; only a change since the fleet began
    (the baseline the first `git wt alloc` recorded) is reported, with its likely writer."""
    from worktree_tools.core import identity
    from worktree_tools.core.errors import CorruptState

    try:
        baseline, changed = identity.changes(wt)
    except CorruptState as err:
        return [Finding("corrupt_record", err.path, err.message, fixable=False)]
    out: list[Finding] = []
    for change in changed:
        assert baseline is not None
        config = shlex.quote(os.fspath(wt.commondir / "config"))
        restore = (
            f"git config --file {config} {change.key} {shlex.quote(change.before)}"
            if change.before is not None
            else f"git config --file {config} --unset {change.key}"
        )
        out.append(
            Finding(
                "leaked_config",
                change.key,
                change.detail(baseline),
                fixable=False,
                undo=restore,
                extra={"before": change.before, "now": change.now, "writer": change.suspect},
            )
        )
    return out
