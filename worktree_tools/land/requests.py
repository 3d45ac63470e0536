"""Land requests: what they hold, their states, and the queue files in the common git dir.

One JSON file per request under `<common git dir>/wt/land/requests/<id>.json`, every change
written temp+fsync+rename under the queue lock (held only for a read-check-write). The id is a
sequence number, so the FIFO order of a target's queue is the order of its ids. A request is never
deleted by the queue: finished ones stay, with their outcome, for `--list --all` and `watch`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from worktree_tools.core import atomic, fields, times
from worktree_tools.core.errors import InvalidInput, WtError
from worktree_tools.core.locks import QUEUE_LOCK, Holder, RecordedLock
from worktree_tools.core.procs import HOST
from worktree_tools.core.statefiles import LAND_DIR
from worktree_tools.core.statefiles import LAND_REQUESTS as REQUESTS

SCHEMA_VERSION = 1


class Strategy(str, Enum):
    REBASE = "rebase"
    SQUASH = "squash"
    MERGE = "merge"


class State(str, Enum):
    QUEUED = "queued"
    LANDING = "landing"  # a lander has picked it (see `lander` and `stage`)
    LANDED = "landed"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    CHECK_FAILED = "check_failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self not in (State.QUEUED, State.LANDING)

    @property
    def handed_back(self) -> bool:
        return self in (State.CONFLICT, State.CHECK_FAILED)


iso = times.iso


@dataclass(frozen=True)
class Lander:
    """The process working a request: judged dead only on proof (same host, pid gone)."""

    pid: int
    host: str
    started: float

    @classmethod
    def me(cls) -> Lander:
        return cls(os.getpid(), HOST, time.time())

    @classmethod
    def parse(cls, data: Any) -> Lander:
        if not isinstance(data, dict):
            raise TypeError("lander is not an object")
        return cls(int(data["pid"]), fields.string(data["host"]), float(data["started"]))

    def alive(self) -> bool:
        from worktree_tools.core.procs import alive_before

        return self.host != HOST or alive_before(self.pid, self.started)


@dataclass(frozen=True)
class Request:
    id: str
    target: str  # the branch landed into (short name)
    branch: str
    head: str  # the branch's commit when it was queued: exactly this is landed
    agent: str | None  # the agent owning the branch (whose handoff gets a hand-back)
    requested_by: str
    strategy: Strategy
    check: str | None
    remote: str | None  # --push: the target is this remote's branch
    state: State
    enqueued_epoch: float
    lander: Lander | None = None
    stage: str | None = None  # integrating, checking, swapping (with `planned`)
    planned: dict[str, str] | None = None  # {"old", "new"}: the move about to be made
    result: dict[str, Any] = field(default_factory=dict)
    finished_epoch: float | None = None
    attempts: int = 0
    check_timeout: float | None = None  # seconds; the check is killed and fails after it

    @classmethod
    def parse(cls, data: Any, where: Path) -> Request:
        try:
            if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
                raise ValueError("not a version-1 land request")
            planned = data.get("planned")
            if planned is not None and not (
                isinstance(planned, dict)
                and all(isinstance(planned.get(k), str) for k in ("old", "new"))
            ):
                raise ValueError("planned must be {old, new}")
            result = data.get("result") or {}
            if not isinstance(result, dict):
                raise TypeError("result is not an object")
            finished = data.get("finished_epoch")
            timeout = data.get("check_timeout")
            return cls(
                id=fields.string(data["id"]),
                target=fields.string(data["target"]),
                branch=fields.string(data["branch"]),
                head=fields.string(data["head"]),
                agent=fields.opt_string(data.get("agent")),
                requested_by=fields.string(data["requested_by"]),
                strategy=Strategy(data["strategy"]),
                check=fields.opt_string(data.get("check")),
                remote=fields.opt_string(data.get("remote")),
                state=State(data["state"]),
                enqueued_epoch=float(data["enqueued_epoch"]),
                lander=None if data.get("lander") is None else Lander.parse(data["lander"]),
                stage=fields.opt_string(data.get("stage")),
                planned={"old": planned["old"], "new": planned["new"]} if planned else None,
                result=result,
                finished_epoch=None if finished is None else float(finished),
                attempts=int(data.get("attempts", 0)),
                check_timeout=None if timeout is None else float(timeout),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise CorruptRequest(
                f"land request {where} is corrupt ({type(exc).__name__}: {exc}); the queue "
                "skips it and nothing was changed",
                fix=f"inspect it, then repair it or move it away: mv {where} {where}.bad",
                request=os.fspath(where),
            ) from None

    def with_changes(self, **changes: Any) -> Request:
        return replace(self, **changes)

    @property
    def key(self) -> tuple[str, str | None]:
        """Requests with one key share a queue and a lander."""
        return (self.target, self.remote)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["schema_version"] = SCHEMA_VERSION
        data["strategy"] = self.strategy.value
        data["state"] = self.state.value
        data["enqueued_at"] = iso(self.enqueued_epoch)
        data["finished_at"] = iso(self.finished_epoch) if self.finished_epoch else None
        return data

    def retry_command(self) -> str:
        who = self.agent or self.branch
        opts = f" --strategy {self.strategy.value}"
        if self.remote:
            opts += f" --push --remote {self.remote}"
        return f"git wt land {who} --into {self.target}{opts}"


class CorruptRequest(InvalidInput):
    """A request file that cannot be read: skipped, reported, never overwritten."""


# ---- storage ----------------------------------------------------------------------------------


def land_dir(state_dir: Path) -> Path:
    return state_dir / LAND_DIR


def requests_dir(state_dir: Path) -> Path:
    return land_dir(state_dir) / REQUESTS


def key_name(target: str, remote: str | None) -> str:
    """A file-name-safe name for one queue (target branch, remote)."""
    name = quote(target, safe="")
    return f"{quote(remote, safe='')}@{name}" if remote else name


def queue_lock(state_dir: Path, agent: str, deadline: float) -> RecordedLock:
    return RecordedLock(
        land_dir(state_dir) / QUEUE_LOCK, "land queue lock", Holder.me(agent), deadline
    )


def path_of(state_dir: Path, request_id: str) -> Path:
    return requests_dir(state_dir) / f"{request_id}.json"


def save(state_dir: Path, req: Request, *, durable: bool = True) -> None:
    """core.atomic: temp file, fsync (unless `durable` is false), rename. The directory is not
    fsynced: a rename lost to a power cut brings back the previous state of the request, which
    the next lander handles as it handles a crash (a lost claim is a queued request, a lost
    outcome a planned move it finds in the target)."""
    path = path_of(state_dir, req.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = (json.dumps(req.to_json(), ensure_ascii=False, indent=1) + "\n").encode()
    atomic.write_bytes(path, payload, durable=durable, sync_dir=False)


def load(state_dir: Path, request_id: str) -> Request | None:
    path = path_of(state_dir, request_id)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    return Request.parse(data, path)


def load_all(state_dir: Path) -> tuple[list[Request], list[WtError]]:
    """Every request in id order, and the errors of those that cannot be read."""
    good: list[Request] = []
    bad: list[WtError] = []
    try:
        names = [p.name for p in requests_dir(state_dir).iterdir()]
    except FileNotFoundError:
        return [], []
    ids = sorted(n[:-5] for n in names if n.endswith(".json") and n[:-5].isdigit())
    for request_id in sorted(ids, key=int):
        try:
            req = load(state_dir, request_id)
        except CorruptRequest as err:
            bad.append(err)
            continue
        if req is not None and req.id == request_id:
            good.append(req)
        elif req is not None:
            bad.append(
                CorruptRequest(
                    f"land request {path_of(state_dir, request_id)} names id {req.id!r}",
                    fix=f"move it away: mv {path_of(state_dir, request_id)} "
                    f"{path_of(state_dir, request_id)}.bad",
                )
            )
    return good, bad


def next_id(state_dir: Path) -> str:
    """One more than any id ever used (caller holds the queue lock)."""
    try:
        names = [p.name for p in requests_dir(state_dir).iterdir()]
    except FileNotFoundError:
        names = []
    used = [int(n.split(".", 1)[0]) for n in names if n.split(".", 1)[0].isdigit()]
    return str(max(used, default=0) + 1)


def enqueue(state_dir: Path, req: Request, deadline: float) -> tuple[Request, bool]:
    """Add `req` (its id is assigned here), or return the live request for the same branch head
    and target (False: nothing was added), so landing the same thing twice queues it once."""
    with queue_lock(state_dir, req.requested_by, deadline):
        existing, _ = load_all(state_dir)
        for other in existing:
            if (
                not other.state.final
                and other.key == req.key
                and other.branch == req.branch
                and other.head == req.head
            ):
                return other, False
        req = req.with_changes(id=next_id(state_dir))
        save(state_dir, req)
    return req, True


def cancel(state_dir: Path, request_id: str, agent: str, deadline: float) -> Request:
    if not request_id.isdigit():
        raise InvalidInput(
            f"invalid request id {request_id!r}", fix="git wt land --list shows the ids"
        )
    with queue_lock(state_dir, agent, deadline):
        req = load(state_dir, request_id)
        if req is None:
            raise InvalidInput(
                f"no land request {request_id}", fix="git wt land --list --all shows the ids"
            )
        if req.state.final:
            return req
        if req.state is State.LANDING and req.stage == "swapping":
            raise InvalidInput(
                f"land request {request_id} is being swapped into {req.target} right now",
                fix=f"git wt land --list (then revert it on {req.target} if it landed)",
            )
        done = req.with_changes(
            state=State.CANCELLED,
            finished_epoch=time.time(),
            result={**req.result, "cancelled_by": agent},
        )
        save(state_dir, done)
    return done
