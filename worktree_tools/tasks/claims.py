"""Claim records: the lease behind a claimed task, kept as a small JSON blob that
`refs/wt/claims/ID` points at.

The task file says who holds a task and under which fencing token; the blob says whether that
holder is still there (owner pid + start time + host, the last heartbeat, the TTL). A heartbeat
swaps the ref to a new blob and adds no commit, so renewing a claim never grows history. The
token lives in both: a claim or a takeover moves the board and the claim ref in one transaction,
taking the higher of the two previous tokens + 1, so a token never comes back.

Liveness is judged as for worktree leases, by worktrees.lease.owner_alive (core.procs): an
owner on this host whose pid is gone, or reused, is dead; one elsewhere is judged by its TTL.
"""

from __future__ import annotations

from worktree_tools.core.jsonline import dumps
from worktree_tools.tasks.model import Task, TaskState
from worktree_tools.tasks.values import Value
from worktree_tools.worktrees.lease import owner_alive
from worktree_tools.worktrees.records import LeaseState, Owner

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CLAIM_PREFIX = "refs/wt/claims/"
VERSION = 1
DEFAULT_TTL = 1800.0
MAX_TTL = 7 * 24 * 3600.0


def claim_ref(task_id: str) -> str:
    return CLAIM_PREFIX + task_id


class ClaimRecord(Value):
    __slots__ = ("agent", "claimed_at", "heartbeat", "owner", "released", "task", "token", "ttl")

    def __init__(
        self,
        task: str,
        agent: str,
        token: int,
        owner: Owner,
        claimed_at: float,  # epoch seconds, the writer's clock
        heartbeat: float,
        ttl: float,
        released: bool = False,
    ) -> None:
        self.task = task
        self.agent = agent
        self.token = token
        self.owner = owner
        self.claimed_at = claimed_at
        self.heartbeat = heartbeat
        self.ttl = ttl
        self.released = released

    @classmethod
    def parse(cls, raw: bytes) -> ClaimRecord:
        """From a claim blob; ValueError when it is not one."""
        import json  # json.loads imports re: a reader of its own would spare it (hot-path.md)

        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError("not a version-1 claim record")
            record = cls(
                task=_str(data["task"]),
                agent=_str(data["agent"]),
                token=_int(data["token"]),
                owner=Owner.parse(data["owner"]),
                claimed_at=float(data["claimed_at"]),
                heartbeat=float(data["heartbeat"]),
                ttl=float(data["ttl"]),
                released=data.get("released", False) is True,
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a claim record: {exc}") from None
        if record.token < 1 or not record.ttl > 0:
            raise ValueError("not a claim record: token and ttl must be positive")
        return record

    def render(self) -> bytes:
        owner = self.owner
        data = {name: getattr(self, name) for name in self.__slots__}
        data["owner"] = {"host": owner.host, "pid": owner.pid, "started": owner.started}
        data["version"] = VERSION
        # json.dumps(data, sort_keys=True), without the json module (core/jsonline)
        return (dumps({key: data[key] for key in sorted(data)}) + "\n").encode()

    @property
    def expires_at(self) -> float:
        return self.heartbeat + self.ttl

    def to_json(self, now: float) -> dict[str, Any]:
        from worktree_tools.tasks.model import now_iso

        return {
            "agent": self.agent,
            "token": self.token,
            "owner_pid": self.owner.pid,
            "owner_started": self.owner.started,
            "host": self.owner.host,
            "claimed_at": now_iso(self.claimed_at),
            "claimed_epoch": self.claimed_at,
            "heartbeat_at": now_iso(self.heartbeat),
            "heartbeat_epoch": self.heartbeat,
            "ttl": self.ttl,
            "expires_at": now_iso(self.expires_at),
            "expires_epoch": self.expires_at,
            "expires_in": round(self.expires_at - now, 3),
            "released": self.released,
        }


class Lease(Value):
    """How a claimed task's claim stands now."""

    __slots__ = ("record", "state", "why")

    def __init__(self, state: LeaseState, record: ClaimRecord | None, why: str) -> None:
        self.state = state  # active, expired, owner_dead (released: the task is not claimed)
        self.record = record
        self.why = why

    @property
    def takeable(self) -> bool:
        return self.state in (LeaseState.EXPIRED, LeaseState.OWNER_DEAD)


def judge(task: Task, record: ClaimRecord | None, now: float) -> Lease:
    """The lease of `task` given its claim record (None: missing or unreadable)."""
    if task.state is not TaskState.CLAIMED:
        return Lease(LeaseState.RELEASED, record, f"the task is {task.state.value}")
    if (
        record is None
        or record.released
        or record.token != task.token
        or record.agent != task.assigned_to
    ):
        # Claimed in the file, but no live record backs it (edited by hand, or the record
        # ref was deleted): nobody can prove a holder, so it may be taken over.
        return Lease(LeaseState.EXPIRED, record, "no claim record matches the task file")
    if owner_alive(record.owner) is False:
        return Lease(
            LeaseState.OWNER_DEAD,
            record,
            f"owner pid {record.owner.pid} on {record.owner.host} is gone",
        )
    if now >= record.expires_at:
        return Lease(
            LeaseState.EXPIRED,
            record,
            f"no heartbeat for {now - record.heartbeat:.0f}s (ttl {record.ttl:g}s)",
        )
    return Lease(LeaseState.ACTIVE, record, "held")


def check_ttl(ttl: float) -> float:
    from worktree_tools.core.errors import InvalidInput

    if not (0 < ttl <= MAX_TTL):
        raise InvalidInput(f"--ttl must be more than 0 and at most {MAX_TTL:.0f} seconds")
    return ttl


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    return value
