"""Fencing tokens: refuse to act under a lease token that is no longer current.

Each acquisition of a lease takes a token one above the previous one (see lease), so a holder
that stalled past its TTL and lost the lease to a takeover holds a smaller token than the lease
now carries. `check_fence` compares. Refusal is outcome `rejected` (exit 6): retrying the same
command can never succeed; acquire the lease again. (A lease that someone else holds when you
try to take it is `conflict`, exit 4: that one may clear up.)

A check followed by a local commit leaves a window in which a takeover can happen; with
`wt-commit --push`, push_commit closes it: the branch update and a renewal of the lease record
(expecting the record that carried our token) go to the server in one atomic push.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from worktree_tools.core.errors import InvalidInput, Rejected
from worktree_tools.core.repo import Worktree
from worktree_tools.remote.records import LeaseRecord, RemoteLeaseState
from worktree_tools.remote.store import LeaseStore, check_name

_FENCE = re.compile(r"^(?P<name>[^:]+):(?P<token>[0-9]{1,18})$")


class StaleFence(Rejected):
    """The lease's current token is not the one the caller holds (outcome rejected)."""


@dataclass(frozen=True)
class Fence:
    name: str
    token: int

    @classmethod
    def parse(cls, text: str) -> Fence:
        """From `NAME:TOKEN` as given to `wt-commit --fence`."""
        match = _FENCE.match(text)
        if match is None:
            raise InvalidInput(f"--fence wants NAME:TOKEN (a lease and its token), not {text!r}")
        token = int(match["token"])
        if token < 1:
            raise InvalidInput("a fencing token is 1 or more")
        return cls(check_name(match["name"]), token)


@dataclass(frozen=True)
class FenceCheck:
    """A passed check: the record that carries our token, for an atomic push that expects it."""

    fence: Fence
    oid: str
    record: LeaseRecord
    where: str


class NotTheHolder(Rejected):
    """A token is no credential: only the agent that holds the lease may act under it."""


def verify(
    store: LeaseStore,
    fence: Fence,
    *,
    agent: str,
    now: float | None = None,
    then: str = "nothing was committed",
) -> FenceCheck:
    """The current record if it carries `fence.token`, is held (not released, not expired)
    and is held by `agent`; StaleFence or NotTheHolder otherwise (the message ends with
    `then`: what the refusal left behind)."""
    oid, record = store.read(fence.name)
    t = time.time() if now is None else now
    if record is None or oid is None:
        raise StaleFence(
            f"lease {fence.name} ({store.where}) does not exist; token {fence.token} is not "
            f"current; {then}",
            fix=f"git wt lease acquire {fence.name} --ttl SECONDS",
            lease=fence.name,
            token=fence.token,
        )
    state = record.state(t)
    if record.token != fence.token or state is not RemoteLeaseState.HELD:
        if record.token != fence.token:
            why = f"the lease is now at token {record.token} (held by {record.holder!r})"
        else:
            why = f"the lease is {state.value}"
        raise StaleFence(
            f"fencing token {fence.token} for lease {fence.name} ({store.where}) is stale: {why}; "
            f"{then}",
            fix=f"git wt lease acquire {fence.name} --ttl SECONDS, then commit with the new token",
            lease=fence.name,
            token=fence.token,
            current_token=record.token,
            state=state.value,
        )
    if record.holder != agent:
        raise NotTheHolder(
            f"lease {fence.name} ({store.where}) is held by {record.holder!r}, not by {agent!r}: "
            f"a fencing token is accepted only from the agent that holds the lease; {then}",
            fix=f"run the command as {record.holder!r} (--agent), or take the lease when it is "
            f"free: git wt lease acquire {fence.name} --agent {agent} --ttl SECONDS",
            lease=fence.name,
            token=fence.token,
            holder=record.holder,
            agent=agent,
        )
    return FenceCheck(fence, oid, record, store.where)


def check_fence(
    wt: Worktree,
    name: str,
    token: int,
    *,
    remote: str | None,
    agent: str = "wt-commit",
    lock_timeout: float = 30.0,
) -> FenceCheck:
    """Raise StaleFence unless `token` is the current token of held lease `name` (on `remote`,
    or in the local repository when `remote` is None)."""
    from worktree_tools.remote.store import open_store

    store = open_store(wt, remote, agent, lock_timeout)
    return verify(store, Fence(check_name(name), token), agent=agent)
