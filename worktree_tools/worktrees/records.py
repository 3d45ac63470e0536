"""Ownership and handoff records: what they hold, how they are validated, read and written.

One directory per agent under `<commondir>/wt/worktrees/`; `owner.json` is the ownership record
(and the lease), `handoff.json` the handoff left by `release`. Every write goes to a temporary
file that is fsynced and renamed over the target, so a crash never leaves half a record.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from worktree_tools.core import atomic, fields, times
from worktree_tools.core.enums import Word
from worktree_tools.core.errors import CorruptState, InvalidInput
from worktree_tools.core.statefiles import HANDOFF_JSON as HANDOFF_JSON
from worktree_tools.core.statefiles import OWNER_JSON as OWNER_JSON
from worktree_tools.core.statefiles import RECORDS_DIR as RECORDS_DIR

VERSION = 1


class CorruptRecord(CorruptState):
    """A record on disk cannot be parsed: nothing is changed until a person looks at it."""


class RecordState(Word):
    """What the owner last declared (stored); the lease state is derived from it."""

    ACTIVE = "active"
    DONE = "done"
    HANDOFF = "handoff"
    BLOCKED = "blocked"


class LeaseState(Word):
    ACTIVE = "active"
    EXPIRED = "expired"
    OWNER_DEAD = "owner_dead"
    RELEASED = "released"
    BLOCKED = "blocked"


def check_ttl(ttl: float, what: str = "--ttl") -> float:
    """A lease length: more than 0 and at most fields.MAX_TTL seconds, finite. FieldError (a
    ValueError) otherwise; the one check for options, wt.leaseTtl and records alike."""
    return fields.bounded(ttl, f"{what} (seconds)", lo=0, lo_open=True, hi=fields.MAX_TTL)


def require_ttl(ttl: float | None) -> float | None:
    """`ttl` (None: unchanged) checked as an option: InvalidInput, nothing changed."""
    if ttl is None:
        return None
    try:
        return check_ttl(ttl)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


now_iso = times.now_iso
parse_time = times.parse


@dataclass(frozen=True)
class Owner:
    pid: int  # 0: no process is tracked; the lease is judged by its TTL alone
    started: float | None
    host: str

    @classmethod
    def parse(cls, data: Any) -> Owner:
        if not isinstance(data, dict):
            raise ValueError("owner is not an object")
        return cls(
            pid=fields.integer(data, "pid", lo=0, hi=fields.MAX_PID),
            started=fields.opt_number(data, "started"),
            host=fields.text(data, "host"),
        )

    def output(self) -> dict[str, Any]:
        """`started` (the process's start time, null when untracked) in the one time format."""
        return {
            "pid": self.pid,
            "host": self.host,
            "started": times.opt_iso(self.started),
            "started_epoch": self.started,
        }


@dataclass(frozen=True)
class Record:
    """The ownership record of one agent's worktree."""

    agent: str
    path: str
    admin_dir: str
    branch: str
    base: str
    base_oid: str
    owner: Owner
    created: str
    heartbeat: str
    ttl: float
    state: RecordState
    task: str | None = None
    released_at: str | None = None
    adopted_from: str | None = None
    forced: bool = False
    version: int = VERSION

    @classmethod
    def parse(cls, data: Any, where: Path) -> Record:
        """Validate a decoded record; raise CorruptRecord naming the file otherwise."""
        try:
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            if data.get("version") != VERSION:
                raise ValueError(f"unknown version {data.get('version')!r}")
            rec = cls(
                agent=fields.string(data["agent"]),
                path=fields.string(data["path"]),
                admin_dir=fields.string(data["admin_dir"]),
                branch=fields.string(data["branch"]),
                base=fields.string(data["base"]),
                base_oid=fields.string(data["base_oid"]),
                owner=Owner.parse(data["owner"]),
                created=fields.string(data["created"]),
                heartbeat=fields.string(data["heartbeat"]),
                ttl=check_ttl(fields.number(data, "ttl", lo=-1e12), "ttl"),
                state=RecordState(data["state"]),
                task=fields.opt_string(data.get("task")),
                released_at=fields.opt_string(data.get("released_at")),
                adopted_from=fields.opt_string(data.get("adopted_from")),
                forced=fields.flag(data, "forced"),
            )
            parse_time(rec.created)
            parse_time(rec.heartbeat)
        except (KeyError, ValueError, TypeError) as exc:
            raise _corrupt(where, exc) from None
        if rec.agent != where.parent.name:
            raise _corrupt(where, ValueError(f"names agent {rec.agent!r}"))
        return rec

    def to_json(self) -> dict[str, Any]:
        """The record file's content (see output() for the JSON contract's shape)."""
        data = asdict(self)
        data["state"] = self.state.value
        return data

    def output(self) -> dict[str, Any]:
        """The record as every command's JSON shows it, flat in the command's object: the
        worktree's path is `worktree`, times are core.times' one format."""
        return {
            "agent": self.agent,
            "worktree": self.path,
            "admin_dir": self.admin_dir,
            "branch": self.branch,
            "base": self.base,
            "base_oid": self.base_oid,
            "owner": self.owner.output(),
            "created": times.normal(self.created),
            "heartbeat": times.normal(self.heartbeat),
            "ttl": self.ttl,
            "state": self.state.value,
            "task": self.task,
            "released_at": times.normal(self.released_at),
            "adopted_from": self.adopted_from,
            "forced": self.forced,
        }

    def with_changes(self, **changes: Any) -> Record:
        return replace(self, **changes)


@dataclass(frozen=True)
class Handoff:
    """What an owner leaves for the next one: computed facts plus the owner's own words."""

    agent: str
    state: RecordState
    created: str
    branch: str
    base: str
    head: str | None
    merge_base: str | None
    commits: list[dict[str, str]] = field(default_factory=list)
    files: list[dict[str, str]] = field(default_factory=list)
    uncommitted: list[dict[str, str]] = field(default_factory=list)
    remaining: str | None = None
    next_step: str | None = None
    blockers: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    task: str | None = None
    adopted_by: list[dict[str, Any]] = field(default_factory=list)
    version: int = VERSION

    @classmethod
    def parse(cls, data: Any, where: Path) -> Handoff:
        try:
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError("not a version-1 handoff object")
            return cls(
                agent=fields.string(data["agent"]),
                state=RecordState(data["state"]),
                created=fields.string(data["created"]),
                branch=fields.string(data["branch"]),
                base=fields.string(data["base"]),
                head=fields.opt_string(data.get("head")),
                merge_base=fields.opt_string(data.get("merge_base")),
                commits=_list_of_dicts(data.get("commits", [])),
                files=_list_of_dicts(data.get("files", [])),
                uncommitted=_list_of_dicts(data.get("uncommitted", [])),
                remaining=fields.opt_string(data.get("remaining")),
                next_step=fields.opt_string(data.get("next_step")),
                blockers=[fields.string(b) for b in data.get("blockers", [])],
                assumptions=[fields.string(a) for a in data.get("assumptions", [])],
                task=fields.opt_string(data.get("task")),
                adopted_by=[dict(a) for a in data.get("adopted_by", [])],
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise _corrupt(where, exc) from None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        return data

    def output(self) -> dict[str, Any]:
        """The handoff as JSON output shows it: times in core.times' one format."""
        data = self.to_json()
        del data["version"]
        data["created"] = times.normal(self.created)
        data["adopted_by"] = [
            {**a, "at": times.normal(a["at"])} if isinstance(a.get("at"), str) else a
            for a in self.adopted_by
        ]
        return data


def _list_of_dicts(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return [{str(k): str(v) for k, v in dict(item).items()} for item in value]


def _corrupt(where: Path, exc: Exception) -> CorruptRecord:
    import shlex  # an error message: off the task commands' hot path (docs/hot-path.md)

    quoted = shlex.quote(os.fspath(where))
    return CorruptRecord(
        os.fspath(where),
        f"{type(exc).__name__}: {exc}",
        fix=f"inspect it (git wt log shows its history), then repair it or move it away: "
        f"mv {quoted} {quoted}.corrupt",
        record=os.fspath(where),
    )


# ---- storage ----------------------------------------------------------------------------------


def records_root(state_dir: Path) -> Path:
    return state_dir / RECORDS_DIR


def agent_dir(state_dir: Path, agent: str) -> Path:
    return records_root(state_dir) / agent


def atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    """Write `data` to `path` so that readers see the old or the new file, never a mix."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    payload = (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    atomic.write_bytes(path, payload, durable=True, fault="wt-record-written")


_MISSING = object()


def _load_json(path: Path) -> Any:
    """The decoded file; _MISSING only when there is no file. A file holding `null`, a
    directory, bytes that are not UTF-8 or JSON: CorruptRecord (never taken as absent)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return _MISSING
    except OSError as exc:
        raise _corrupt(path, exc) from None
    try:
        return fields.loads(raw)
    except ValueError as exc:
        raise _corrupt(path, exc) from None


def load(state_dir: Path, agent: str) -> Record | None:
    path = agent_dir(state_dir, agent) / OWNER_JSON
    data = _load_json(path)
    return None if data is _MISSING else Record.parse(data, path)


def require_admin_dir(rec: Record, state_dir: Path) -> Path:
    """The record's worktree admin dir, which must exist (git keeps it while the worktree
    is registered); CorruptRecord naming the record otherwise, before anything is written."""
    admin = Path(rec.admin_dir)
    if not admin.is_dir():
        where = agent_dir(state_dir, rec.agent) / OWNER_JSON
        raise _corrupt(where, ValueError(f"admin_dir {rec.admin_dir} is not a directory"))
    return admin


def require(state_dir: Path, agent: str) -> Record:
    rec = load(state_dir, agent)
    if rec is None:
        raise InvalidInput(
            f"unknown agent {agent!r}: it owns no worktree",
            fix="git wt list shows the agents that own worktrees",
            agent=agent,
        )
    return rec


def save(state_dir: Path, rec: Record) -> None:
    atomic_write_json(agent_dir(state_dir, rec.agent) / OWNER_JSON, rec.to_json())


def load_handoff(state_dir: Path, agent: str) -> Handoff | None:
    path = agent_dir(state_dir, agent) / HANDOFF_JSON
    data = _load_json(path)
    return None if data is _MISSING else Handoff.parse(data, path)


def save_handoff(state_dir: Path, handoff: Handoff) -> None:
    atomic_write_json(agent_dir(state_dir, handoff.agent) / HANDOFF_JSON, handoff.to_json())


def agents(state_dir: Path) -> list[str]:
    root = records_root(state_dir)
    try:
        names = sorted(
            p.name
            for p in root.iterdir()
            if not p.name.startswith(".") and (p / OWNER_JSON).exists()
        )
    except FileNotFoundError:
        return []
    return names


def load_all(state_dir: Path) -> tuple[list[Record], list[CorruptRecord]]:
    """Every record, and the errors of those that cannot be read."""
    good: list[Record] = []
    bad: list[CorruptRecord] = []
    for name in agents(state_dir):
        try:
            rec = load(state_dir, name)
        except CorruptRecord as err:
            bad.append(err)
            continue
        if rec is not None:
            good.append(rec)
    return good, bad


def rename(state_dir: Path, old: str, new: str) -> None:
    """Move an agent's records to a new name (the caller holds both agents' locks)."""
    os.rename(agent_dir(state_dir, old), agent_dir(state_dir, new))


def delete(state_dir: Path, agent: str) -> None:
    """Drop an agent's records. Renamed aside first, so a crash leaves no half-deleted record."""
    src = agent_dir(state_dir, agent)
    import contextlib
    import shutil

    trash = records_root(state_dir) / f".deleted-{agent}-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.rename(src, trash)
    shutil.rmtree(trash, ignore_errors=True)
