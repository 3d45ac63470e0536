"""Leases on hot resources (a shared branch, a deploy, a generated artifact).

    acquire  free, released or expired -> held by me with token = previous token + 1
             held by someone else      -> RefMoved (outcome conflict, exit 4), naming the holder
             held by me already        -> renewed, same token (idempotent)
    renew    held (or expired but not taken over) by me, token unchanged -> renewed_at = now
    release  held by me -> a record marked released (the token history stays; the ref is kept)
    list     every lease with its state

Every change is one compare-and-swap of the lease ref (see store). A lost swap means someone
else changed the lease first: read it again and decide again, a bounded number of times.
Expiry is judged by the reader's wall clock against the writer's `renewed_at + ttl`: machines'
clocks must agree to well within a TTL.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from worktree_tools.core import events, fields
from worktree_tools.core.enums import WordEnum
from worktree_tools.core.errors import InvalidInput, RefMoved, Rejected
from worktree_tools.core.procs import HOST
from worktree_tools.core.repo import Worktree
from worktree_tools.remote import records
from worktree_tools.remote.records import LeaseRecord, RemoteLeaseState
from worktree_tools.remote.store import LeaseStore, check_name

MAX_ROUNDS = 12
MAX_TTL = fields.MAX_TTL


class LeaseAction(WordEnum):
    """What a lease command did."""

    ACQUIRE = "acquire"
    RENEW = "renew"
    RELEASE = "release"


@dataclass(frozen=True)
class LeaseView:
    """One lease as a command reports it."""

    name: str
    where: str
    state: RemoteLeaseState
    oid: str | None
    record: LeaseRecord | None
    now: float
    action: LeaseAction | None = None
    took_over_from: str | None = None  # the holder of the expired lease we replaced
    already_held: bool = False
    error: str | None = None  # why a corrupt record cannot be read, and how to repair it
    fix: str | None = None

    @property
    def token(self) -> int | None:
        return self.record.token if self.record else None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "where": self.where,
            "state": self.state.value,
            "token": self.token,
            "record_oid": self.oid,
            **dict.fromkeys(_RECORD_KEYS),
        }
        if self.record is not None:
            rec = self.record.to_json(self.now)
            data.update({key: rec[key] for key in _RECORD_KEYS})
        if self.error is not None:
            data["error"] = self.error
            data["fix"] = self.fix
        if self.action is not None:
            data["action"] = self.action.value
            data["took_over_from"] = self.took_over_from
            data["already_held"] = self.already_held
        return data


_RECORD_KEYS = (
    "holder",
    "host",
    "pid",
    "acquired_at",
    "acquired_epoch",
    "renewed_at",
    "renewed_epoch",
    "ttl",
    "expires_at",
    "expires_epoch",
    "expires_in",
)


def state_of(record: LeaseRecord | None, now: float) -> RemoteLeaseState:
    return RemoteLeaseState.FREE if record is None else record.state(now)


def view(store: LeaseStore, name: str, *, now: float | None = None) -> LeaseView:
    oid, record = store.read(check_name(name))
    t = time.time() if now is None else now
    return LeaseView(name, store.where, state_of(record, t), oid, record, t)


def list_leases(store: LeaseStore) -> list[LeaseView]:
    found = store.names()
    store.fetch(list(found.values()))
    now = time.time()
    out = []
    for name, oid in sorted(found.items()):
        try:
            record = store.record(oid)
        except records.CorruptLease as err:
            fix = (err.fix or "").replace("NAME", name)
            corrupt = LeaseView(name, store.where, RemoteLeaseState.CORRUPT, oid, None, now)
            out.append(replace(corrupt, error=err.message, fix=fix))
            continue
        out.append(LeaseView(name, store.where, state_of(record, now), oid, record, now))
    return out


def _check_ttl(ttl: float) -> float:
    try:
        return fields.bounded(ttl, "--ttl (seconds)", lo=0, lo_open=True, hi=MAX_TTL)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _held_by_other(view_: LeaseView, agent: str) -> RefMoved:
    rec = view_.record
    assert rec is not None
    return RefMoved(
        f"lease {view_.name} ({view_.where}) is held by {rec.holder!r} (pid {rec.pid} on "
        f"{rec.host}, token {rec.token}) for {max(0.0, rec.expires_at - view_.now):.1f}s more",
        fix=f"wait for it to be released or to expire, then `git wt lease acquire {view_.name}`"
        " again",
        lease=view_.to_json(),
        agent=agent,
    )


def _backoff(round_: int) -> None:
    # Jitter spreads machines that lost the same swap, so they do not collide again in step.
    time.sleep(random.uniform(0, min(0.2, 0.005 * (2**round_))))


@dataclass(frozen=True)
class _Write:
    """A decision to replace the lease record (see _change)."""

    record: LeaseRecord
    state: RemoteLeaseState
    took_over_from: str | None = None
    already_held: bool = False


def _change(
    wt: Worktree,
    store: LeaseStore,
    name: str,
    agent: str,
    action: LeaseAction,
    decide: Callable[[str | None, LeaseRecord | None, float], LeaseView | _Write],
) -> LeaseView:
    """The one way a lease changes: read it, decide (a view: nothing to write, or a refusal
    raised), write the new record and swap it in from the value read; after a lost swap read
    and decide again, with a jittered backoff, up to MAX_ROUNDS."""
    check_name(name)
    for round_ in range(MAX_ROUNDS):
        oid, record = store.read(name)
        now = time.time()
        decision = decide(oid, record, now)
        if isinstance(decision, LeaseView):
            return decision
        new = records.write(wt, decision.record, oid)
        if store.swap(name, oid, new):
            result = LeaseView(
                name, store.where, decision.state, new, decision.record, now, action=action,
                took_over_from=decision.took_over_from, already_held=decision.already_held,
            )  # fmt: skip
            _log(wt, f"lease_{action.value}", agent, result)
            return result
        _backoff(round_)
    raise RefMoved(
        f"lease {name} ({store.where}) kept changing; gave up after {MAX_ROUNDS} attempts",
        fix="retry the same command",
    )


def acquire(wt: Worktree, store: LeaseStore, name: str, *, agent: str, ttl: float) -> LeaseView:
    """Take lease `name` for `ttl` seconds; see the module docstring for every case."""
    _check_ttl(ttl)

    def decide(oid: str | None, record: LeaseRecord | None, now: float) -> _Write:
        state = state_of(record, now)
        if record is not None and state is RemoteLeaseState.HELD:
            if record.holder != agent:
                raise _held_by_other(LeaseView(name, store.where, state, oid, record, now), agent)
            return _Write(_renewed(record, now, ttl), RemoteLeaseState.HELD, already_held=True)
        took_over: str | None = None
        if record is not None and state is RemoteLeaseState.EXPIRED and record.holder != agent:
            took_over = record.holder
        token = (record.token + 1) if record is not None else 1
        new_record = LeaseRecord(
            name, agent, HOST, _owner_pid(), now, now, ttl, token, released=False
        )
        return _Write(new_record, RemoteLeaseState.HELD, took_over_from=took_over)

    return _change(wt, store, name, agent, LeaseAction.ACQUIRE, decide)


def renew(
    wt: Worktree,
    store: LeaseStore,
    name: str,
    *,
    agent: str,
    ttl: float | None = None,
    token: int | None = None,
) -> LeaseView:
    """Extend my lease from now; its token stays. Refused once anyone else has taken it."""

    def decide(oid: str | None, record: LeaseRecord | None, now: float) -> _Write:
        current = LeaseView(name, store.where, state_of(record, now), oid, record, now)
        _must_hold(current, agent, token, "renew")
        assert record is not None
        new_ttl = _check_ttl(ttl) if ttl is not None else record.ttl
        return _Write(_renewed(record, now, new_ttl), RemoteLeaseState.HELD)

    return _change(wt, store, name, agent, LeaseAction.RENEW, decide)


def release(
    wt: Worktree, store: LeaseStore, name: str, *, agent: str, token: int | None = None
) -> LeaseView:
    """Mark my lease released (the ref and its token history stay). Releasing a lease that is
    already released or free is a no-op."""

    def decide(oid: str | None, record: LeaseRecord | None, now: float) -> LeaseView | _Write:
        current = LeaseView(name, store.where, state_of(record, now), oid, record, now)
        if current.state in (RemoteLeaseState.FREE, RemoteLeaseState.RELEASED):
            return replace(current, action=LeaseAction.RELEASE)
        _must_hold(current, agent, token, "release")
        assert record is not None
        new_record = LeaseRecord(
            record.name, record.holder, record.host, record.pid, record.acquired_at, now,
            record.ttl, record.token, released=True,
        )  # fmt: skip
        return _Write(new_record, RemoteLeaseState.RELEASED)

    return _change(wt, store, name, agent, LeaseAction.RELEASE, decide)


def _must_hold(current: LeaseView, agent: str, token: int | None, verb: str) -> None:
    rec = current.record
    if rec is None or current.state is RemoteLeaseState.RELEASED:
        raise Rejected(
            f"cannot {verb} lease {current.name} ({current.where}): it is {current.state.value}",
            fix=f"git wt lease acquire {current.name} --ttl SECONDS",
            lease=current.to_json(),
        )
    if rec.holder != agent:
        if current.state is RemoteLeaseState.HELD:
            raise _held_by_other(current, agent)
        raise Rejected(
            f"cannot {verb} lease {current.name}: it expired and belongs to {rec.holder!r}",
            fix=f"git wt lease acquire {current.name} --ttl SECONDS (takes it over)",
            lease=current.to_json(),
        )
    if token is not None and token != rec.token:
        raise Rejected(
            f"cannot {verb} lease {current.name}: token {token} is stale (current {rec.token})",
            fix=f"git wt lease acquire {current.name} --ttl SECONDS",
            lease=current.to_json(),
        )


def _renewed(record: LeaseRecord, now: float, ttl: float) -> LeaseRecord:
    return LeaseRecord(
        record.name, record.holder, HOST, _owner_pid(), record.acquired_at, now, ttl,
        record.token, released=False,
    )  # fmt: skip


def _owner_pid() -> int:
    # The agent behind git-wt, not git-wt itself (it exits at once): informational only.
    return os.getppid()


def _log(wt: Worktree, action: str, agent: str, result: LeaseView) -> None:
    events.append(
        wt.state_dir, action, agent, lease=result.name, where=result.where,
        token=result.token, record=result.oid, took_over_from=result.took_over_from,
        ttl=result.record.ttl if result.record else None,
    )  # fmt: skip
