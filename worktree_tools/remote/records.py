"""Lease records: small JSON in a commit object, one commit per change of a lease.

Each record's parent is the record it replaced, so `git log refs/wt/leases/NAME` is the lease's
whole history and the token never goes back: a new acquisition takes the previous token + 1,
even after a release or a takeover. The commit has the empty tree and a fixed identity, so
writing one needs no user.name and touches no worktree.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from worktree_tools.core import commits, fields, times
from worktree_tools.core.errors import Rejected
from worktree_tools.core.repo import Worktree

LEASE_PREFIX = "refs/wt/leases/"
_IDENTITY = {
    "GIT_AUTHOR_NAME": "worktree-tools lease",
    "GIT_AUTHOR_EMAIL": "wt-lease@localhost",
    "GIT_COMMITTER_NAME": "worktree-tools lease",
    "GIT_COMMITTER_EMAIL": "wt-lease@localhost",
}


class RemoteLeaseState(str, Enum):
    FREE = "free"  # never acquired
    HELD = "held"
    EXPIRED = "expired"  # held, but not renewed within its TTL: anyone may take it over
    RELEASED = "released"
    CORRUPT = "corrupt"  # the ref points at something that is not a valid lease record

    @classmethod
    def parse(cls, text: str) -> RemoteLeaseState:
        try:
            return cls(text)
        except ValueError:
            raise ValueError(f"unknown lease state {text!r}") from None


@dataclass(frozen=True)
class LeaseRecord:
    name: str
    holder: str  # the agent
    host: str
    pid: int
    acquired_at: float  # epoch seconds (wall clock of the writer)
    renewed_at: float
    ttl: float
    token: int
    released: bool = False

    @classmethod
    def parse(cls, text: str) -> LeaseRecord:
        """From the JSON a record commit carries; ValueError when it is not a lease record
        (anyone who can push can plant one: every field is checked, numbers must be finite
        and in range)."""
        try:
            data = fields.obj(fields.loads(text))
            record = cls(
                name=fields.text(data, "name", max_len=255),
                holder=fields.text(data, "holder", max_len=255),
                host=fields.text(data, "host", max_len=255),
                pid=fields.integer(data, "pid", lo=0, hi=fields.MAX_PID),
                acquired_at=fields.number(data, "acquired_at"),
                renewed_at=fields.number(data, "renewed_at"),
                ttl=fields.number(data, "ttl", lo=0, hi=fields.MAX_TTL),
                token=fields.integer(data, "token", lo=1),
                released=fields.flag(data, "released"),
            )
        except ValueError as exc:
            raise ValueError(f"not a lease record: {exc}") from None
        if record.ttl <= 0:
            raise ValueError("not a lease record: 'ttl' must be positive")
        return record

    @property
    def expires_at(self) -> float:
        return self.renewed_at + self.ttl

    def state(self, now: float) -> RemoteLeaseState:
        if self.released:
            return RemoteLeaseState.RELEASED
        return RemoteLeaseState.HELD if now < self.expires_at else RemoteLeaseState.EXPIRED

    def to_json(self, now: float) -> dict[str, Any]:
        """The record as JSON output shows it: times in core.times' format plus `*_epoch`."""
        data: dict[str, Any] = asdict(self)
        data["state"] = self.state(now).value
        for key, epoch in (
            ("acquired_at", self.acquired_at),
            ("renewed_at", self.renewed_at),
            ("expires_at", self.expires_at),
        ):
            data[key], data[key.replace("_at", "_epoch")] = times.iso(epoch), epoch
        data["expires_in"] = round(self.expires_at - now, 3)
        return data


def lease_ref(name: str) -> str:
    return LEASE_PREFIX + name


def write(wt: Worktree, record: LeaseRecord, parent: str | None) -> str:
    """Store `record` as a commit whose parent is the record it replaces; its id."""
    # The empty tree, stored (it must exist as an object to be pushed), in this repository's
    # object format.
    tree = wt.git(["mktree"], input=b"").out.strip()
    state = "released" if record.released else "held"
    subject = f"wt lease {record.name}: {state} by {record.holder}, token {record.token}"
    body = json.dumps(asdict(record), sort_keys=True)
    message = f"{subject}\n\n{body}\n".encode()
    return commits.build(wt, tree, [parent], message, env=_IDENTITY)


class CorruptLease(Rejected):
    """A lease ref whose commit is not a valid record: nothing acts on it until a person has
    looked (it is never taken as free, and never replaced by an acquire)."""


def read(wt: Worktree, oid: str) -> LeaseRecord:
    """The record stored in commit `oid`; CorruptLease when it is not one (someone else's ref,
    or a record planted with out-of-range fields)."""
    res = wt.git(["cat-file", "commit", oid], check=False)
    text = res.out.partition("\n\n")[2].partition("\n\n")[2]
    try:
        if res.returncode != 0:
            raise ValueError(res.err.strip())
        return LeaseRecord.parse(text)
    except ValueError as exc:
        raise CorruptLease(
            f"lease record {oid} is corrupt ({exc}); nothing was changed",
            fix=f"inspect it: git cat-file -p {oid}; to discard it (its token history is lost): "
            f"git update-ref -d {LEASE_PREFIX}NAME (on a remote: git push REMOTE "
            f":{LEASE_PREFIX}NAME)",
            record=oid,
        ) from None
