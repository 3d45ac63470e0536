"""`git wt watch`: notice what is going wrong in the fleet, and never change anything.

Watching and working are different loops: a scan is cheap and read-only (records, holder
records, git's lock files, refs and the journal rules are read; nothing is written, no lock is
taken), so it can run every few seconds beside agents whose work is serialized by locks.

Each scan yields the current findings (the journal's come from `watch_journal`); the watcher
compares them with the previous scan and emits one event per change: a finding that appears is
`raised`, one that goes away `cleared` (health/findings.py: what a finding and an event are).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools.core.errors import CorruptState, WtError
from worktree_tools.core.locks import HOOK_LOCK, WORKTREE_LOCK, read_holder
from worktree_tools.core.procs import HOST, alive_before
from worktree_tools.core.repo import Worktree
from worktree_tools.core.statefiles import NOT_LOCK_DIRS as _NOT_LOCK_DIRS
from worktree_tools.health.findings import Change as Change
from worktree_tools.health.findings import Event as Event
from worktree_tools.health.findings import Finding as Finding
from worktree_tools.health.findings import Kind as Kind
from worktree_tools.health.findings import diff as diff
from worktree_tools.health.findings import now_iso as now_iso
from worktree_tools.health.watch_disk import DiskTracker
from worktree_tools.health.watch_journal import JournalTracker

DEFAULT_INTERVAL = 5.0
DEFAULT_LOCK_THRESHOLD = 60.0
# Where worktree-tools keeps its flock-based locks (each with a `<lock>.json` holder record).
WORKTREE_LOCKS = (WORKTREE_LOCK, HOOK_LOCK)  # core.locks.LOCK_ORDER names them all


@dataclass(frozen=True)
class Options:
    lock_threshold: float = DEFAULT_LOCK_THRESHOLD
    journal: bool = True
    task_blocked_after: float = 4 * 3600.0
    task_idle_after: float = 3600.0


@dataclass
class Scanner:
    """Read-only scans of one repository. Keeps what it verified of each branch, so a watch
    loop checks only the commits that are new since its last scan."""

    wt: Worktree
    options: Options = field(default_factory=Options)
    errors: list[str] = field(default_factory=list)
    _journal_tracker: JournalTracker = field(init=False)
    _disk_tracker: DiskTracker = field(init=False)
    _last: dict[str, list[Finding]] = field(default_factory=dict)
    _stale: set[tuple[str, int, int]] = field(default_factory=set)  # git locks proven stale

    def __post_init__(self) -> None:
        self._journal_tracker = JournalTracker(self.wt)
        self._disk_tracker = DiskTracker(self.wt)

    def scan(self) -> list[Finding]:
        """Every current finding. A source that fails (a git command racing a worktree being
        removed) keeps its previous findings for this scan, and the error is kept in `errors`."""
        self.errors = []
        sources: dict[str, Callable[[], list[Finding]]] = {
            "leases": self._leases,
            "locks": self._wt_locks,
            "doctor": self._doctor,
            "land": self._land,
            "tasks": self._tasks,
            "disk": self._disk,
        }
        if self.options.journal:
            sources["journal"] = self._journal
        out: list[Finding] = []
        for name, source in sources.items():
            try:
                found = source()
            except (WtError, OSError) as err:
                self.errors.append(f"{name}: {getattr(err, 'message', None) or err}")
                found = self._last.get(name, [])
            self._last[name] = found
            out += found
        return out

    # ---- leases ---------------------------------------------------------------------------

    def _leases(self) -> list[Finding]:
        from worktree_tools.worktrees import lease, records
        from worktree_tools.worktrees.records import LeaseState

        recs, bad = records.load_all(self.wt.state_dir)
        out: list[Finding] = []
        now = time.time()
        for err in bad:
            where = str(err.details.get("record", ""))
            out.append(Finding(Kind.CORRUPT_RECORD, Path(where).parent.name, err.message))
        for rec in recs:
            state = lease.state_of(rec, now)
            owner = rec.owner
            base = {"agent": rec.agent, "worktree": rec.path, "branch": rec.branch}
            if state is LeaseState.OWNER_DEAD:
                out.append(
                    Finding(
                        Kind.OWNER_DEAD,
                        rec.agent,
                        f"owner pid {owner.pid} on {owner.host} is gone; its worktree {rec.path} "
                        f"waits for adopt or gc",
                        instance=f"{owner.pid}@{owner.started}",
                        data={**base, "owner_pid": owner.pid, "host": owner.host},
                    )
                )
            elif state is LeaseState.EXPIRED:
                age = now - records.parse_time(rec.heartbeat)
                out.append(
                    Finding(
                        Kind.LEASE_EXPIRED,
                        rec.agent,
                        f"no heartbeat for {age:.0f}s (ttl {rec.ttl:g}s); worktree {rec.path}",
                        instance=rec.heartbeat,
                        data={**base, "heartbeat": rec.heartbeat, "ttl": rec.ttl},
                    )
                )
            elif state is LeaseState.BLOCKED:
                handoff = _handoff(self.wt.state_dir, rec.agent)
                blockers = handoff.blockers if handoff else []
                out.append(
                    Finding(
                        Kind.BLOCKED,
                        rec.agent,
                        "waiting on a human: " + ("; ".join(blockers) or "(no reason recorded)"),
                        instance=rec.released_at or rec.heartbeat,
                        data={**base, "blockers": blockers},
                    )
                )
        return out

    # ---- the task board (tasks.watch) --------------------------------------------------

    def _tasks(self) -> list[Finding]:
        from worktree_tools.tasks.watch import findings

        found = findings(
            self.wt,
            blocked_after=self.options.task_blocked_after,
            idle_after=self.options.task_idle_after,
        )
        return [Finding(Kind(f.kind), f.subject, f.detail, f.instance, f.data) for f in found]

    # ---- worktree-tools' own locks ------------------------------------------------------

    def _wt_locks(self) -> list[Finding]:
        out: list[Finding] = []
        now = time.time()
        for lock in self._lock_files():
            try:
                holder = read_holder(lock)
            except CorruptState as err:
                out.append(_corrupt_finding(err))
                continue
            if holder is None:
                continue  # free (the record goes when the lock is released) or being written
            held_for = now - holder.acquired_at
            if held_for < self.options.lock_threshold:
                continue
            if holder.host == HOST and not alive_before(holder.pid, holder.acquired_at):
                continue  # the holder died: the flock died with it; the record is left over
            out.append(
                Finding(
                    Kind.LOCK_HELD_LONG,
                    os.fspath(lock),
                    f"held for {held_for:.0f}s by {holder.describe(now)}",
                    instance=f"{holder.pid}@{holder.acquired_at}",
                    data={"lock": os.fspath(lock), "held_s": round(held_for, 1), **_h(holder)},
                )
            )
        return out

    def _lock_files(self) -> list[Path]:
        from worktree_tools.health.doctor import worktree_dirs

        state = self.wt.state_dir
        found = sorted(state.glob("*.lock"))
        try:
            subdirs = [d for d in state.iterdir() if d.is_dir() and d.name not in _NOT_LOCK_DIRS]
        except FileNotFoundError:
            subdirs = []
        for sub in subdirs:
            found += sorted(sub.glob("*.lock"))
        for _top, gitdir in worktree_dirs(self.wt, lock=False):
            found += [gitdir / name for name in WORKTREE_LOCKS if (gitdir / name).exists()]
        return found

    # ---- git's locks, stranded patches, orphaned hooks, leaked config (doctor, read-only) ---

    def _doctor(self) -> list[Finding]:
        from worktree_tools.health import watch_doctor
        from worktree_tools.health.doctor import DoctorKind

        out: list[Finding] = []
        stale_now: set[tuple[str, int, int]] = set()
        for f in watch_doctor.examine(self.wt):
            extra = {k: v for k, v in f.to_json().items() if k not in ("kind", "subject")}
            is_lock = f.kind in (DoctorKind.STALE_LOCK, DoctorKind.LIVE_LOCK)
            ident = _identity(Path(f.subject)) if is_lock else None
            if is_lock and ident is None:
                continue  # released between doctor's listing and now: nothing to report
            if f.kind is DoctorKind.STALE_LOCK or (
                f.kind is DoctorKind.LIVE_LOCK and ident is not None and ident in self._stale
            ):
                # Once proven stale, the same lock file stays stale: the process scan behind
                # "possibly held" counts any git process near the repository, which comes and
                # goes, and would make the finding flap between stale and held.
                if ident is not None:
                    stale_now.add(ident)
                out.append(Finding(Kind.STALE_GIT_LOCK, f.subject, f.detail, data=extra))
            elif f.kind is DoctorKind.LIVE_LOCK:
                age = _age(Path(f.subject))
                if age is not None and age >= self.options.lock_threshold:
                    detail = f"git lock {age:.0f}s old, {f.detail}"
                    out.append(Finding(Kind.LOCK_HELD_LONG, f.subject, detail, data=extra))
            else:
                kind = watch_doctor.WATCH_KIND[f.kind]
                out.append(Finding(kind, f.subject, f.detail, data=extra))
        self._stale = stale_now
        return out

    # ---- the land queues (a lander's lock is judged by its requests, not its age) ---------

    def _land(self) -> list[Finding]:
        from worktree_tools.land.status import findings

        kinds = {
            "queued": Kind.LAND_QUEUED,
            "stuck": Kind.LAND_STUCK,
            "handed_back": Kind.LAND_HANDED_BACK,
            "corrupt": Kind.CORRUPT_RECORD,
        }
        return [
            Finding(kinds[f.kind], f"land request {f.subject}", f.detail, f.instance, f.data)
            for f in findings(self.wt.state_dir, self.options.lock_threshold)
        ]

    # ---- the journal, branch by branch ----------------------------------------------------

    def _disk(self) -> list[Finding]:
        from worktree_tools.env.disk import human

        over = self._disk_tracker.over_budget()
        if over is None:
            return []
        total, budget, rows = over
        top = ", ".join(f"{r['agent']} {human(r['disk_bytes'])}" for r in rows[:5])
        return [
            Finding(
                Kind.DISK_OVER_BUDGET,
                "worktrees",
                f"agents' worktrees use {human(total)}, over wt.gc.maxDisk {human(budget)}: "
                f"{top}; git wt gc collects the oldest released ones first",
                data={"disk_bytes": total, "max_disk_bytes": budget, "worktrees": rows},
            )
        ]

    def _journal(self) -> list[Finding]:
        out: list[Finding] = []
        from worktree_tools.health.watch_journal import CORRUPT

        for branch, v in self._journal_tracker.violations():
            if v.get("kind") == CORRUPT:
                out.append(
                    Finding(
                        Kind.CORRUPT_RECORD,
                        str(v.get("path")),
                        str(v.get("detail")),
                        instance=str(v.get("commit")),
                        data={"branch": branch, "path": v.get("path"), "fix": v.get("fix")},
                    )
                )
                continue
            out.append(
                Finding(
                    Kind.JOURNAL_VIOLATION,
                    branch,
                    f"{str(v.get('commit') or '')[:12]} {v.get('path')}: {v.get('kind')}: "
                    f"{v.get('detail')}",
                    instance=f"{v.get('commit')}:{v.get('path')}:{v.get('kind')}",
                    data={"branch": branch, "violation": v},
                )
            )
        return out


def _h(holder: Any) -> dict[str, Any]:
    return {"holder": holder.output()}


def _identity(path: Path) -> tuple[str, int, int] | None:
    """A lock file as one object: a new lock at the same path is a new finding."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (os.fspath(path), st.st_ino, st.st_mtime_ns)


def _age(path: Path) -> float | None:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return None


def _handoff(state_dir: Path, agent: str) -> Any:
    from worktree_tools.worktrees import records

    try:
        return records.load_handoff(state_dir, agent)
    except records.CorruptRecord:
        return None


def watch(
    wt: Worktree,
    interval: float,
    options: Options,
    *,
    cycles: int = 0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Event | list[str]]:
    """Scan every `interval` seconds and yield each change as an Event (and a scan's source
    errors as a list of strings). `cycles` > 0 stops after that many scans."""
    scanner = Scanner(wt, options)
    state: dict[tuple[str, str, str], Finding] = {}
    cycle = 0
    while cycles <= 0 or cycle < cycles:
        cycle += 1
        started = time.monotonic()
        events, state = diff(state, scanner.scan(), cycle)
        if scanner.errors:
            yield list(scanner.errors)
        yield from events
        if cycles > 0 and cycle >= cycles:
            break
        sleep(max(0.0, interval - (time.monotonic() - started)))


def _corrupt_finding(err: CorruptState) -> Finding:
    return Finding(
        Kind.CORRUPT_RECORD,
        err.path,
        err.message,
        instance=err.why,
        data={"path": err.path, "error": err.message, "fix": err.fix},
    )
