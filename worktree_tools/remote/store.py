"""Where lease records live, behind one compare-and-swap.

RemoteStore: `refs/wt/leases/NAME` on a remote, swapped by `git push --atomic
--force-with-lease=REF:EXPECTED` (the server's ref lock and old-value check are the only arbiter,
so two machines can never both win). LocalStore: the same ref in the local repository, swapped
by `git update-ref REF NEW OLD` under the repository lock, for agents on one machine.
"""

from __future__ import annotations

import time
from typing import Protocol

from worktree_tools.core import agent as agent_mod
from worktree_tools.core import refs
from worktree_tools.core.errors import RefMoved, Rejected
from worktree_tools.core.locks import REPO_LOCK, Holder, RecordedLock
from worktree_tools.core.refs import RefUpdate
from worktree_tools.core.repo import Worktree
from worktree_tools.remote import records, transport
from worktree_tools.remote.records import LEASE_PREFIX, LeaseRecord

READ_ATTEMPTS = 5


class LeaseStore(Protocol):
    where: str

    def read(self, name: str) -> tuple[str | None, LeaseRecord | None]:
        """(record oid, record) of lease `name`; (None, None) when it was never acquired."""

    def swap(self, name: str, expected: str | None, new: str) -> bool:
        """Point lease `name` at `new` if it still holds `expected`; False when it did not."""

    def names(self) -> dict[str, str]:
        """{lease name: record oid} for every lease."""

    def fetch(self, oids: list[str]) -> None:
        """Make sure the record objects are here to read."""

    def record(self, oid: str) -> LeaseRecord:
        """The record in commit `oid` (fetched already)."""


def check_name(name: str) -> str:
    return agent_mod.check_name(name, "lease name")


class LocalStore:
    """Leases of one machine: refs in the local repository (shared by all its worktrees)."""

    where = "local"

    def __init__(self, wt: Worktree, agent: str, lock_timeout: float) -> None:
        self.wt = wt
        self.agent = agent
        self.lock_timeout = lock_timeout

    def read(self, name: str) -> tuple[str | None, LeaseRecord | None]:
        oid = self.wt.git(
            ["rev-parse", "-q", "--verify", records.lease_ref(name)], check=False
        ).out.strip()
        if not oid:
            return None, None
        return oid, records.read(self.wt, oid)

    def swap(self, name: str, expected: str | None, new: str) -> bool:
        deadline = time.monotonic() + self.lock_timeout
        lock = RecordedLock(
            self.wt.state_dir / REPO_LOCK, "repository lock", Holder.me(self.agent), deadline
        )
        ref = records.lease_ref(name)
        with lock:
            try:
                message = refs.reflog("git wt lease", self.agent, name)
                refs.move(self.wt, ref, new, expected, message, deadline=deadline)
            except RefMoved:
                return False
        return True

    def names(self) -> dict[str, str]:
        res = self.wt.git(["for-each-ref", "--format=%(objectname) %(refname)", LEASE_PREFIX])
        out: dict[str, str] = {}
        for line in res.out.splitlines():
            oid, _, ref = line.partition(" ")
            out[ref.removeprefix(LEASE_PREFIX)] = oid
        return out

    def fetch(self, oids: list[str]) -> None:
        return None

    def record(self, oid: str) -> LeaseRecord:
        return records.read(self.wt, oid)


class RemoteStore:
    """Leases shared by every machine that can push to `remote`."""

    def __init__(self, wt: Worktree, remote: str) -> None:
        self.wt = wt
        self.remote = transport.check_remote(remote)
        self.where = f"remote:{remote}"

    def read(self, name: str) -> tuple[str | None, LeaseRecord | None]:
        ref = records.lease_ref(name)
        for _ in range(READ_ATTEMPTS):
            oid = transport.ls_remote(self.wt, self.remote, ref).get(ref)
            if oid is None:
                return None, None
            if transport.fetch_oids(self.wt, self.remote, [oid]):
                return oid, records.read(self.wt, oid)
            # The record was replaced between reading the ref and fetching it: read again.
        raise Rejected(
            f"lease {name} on {self.remote} kept changing while it was read",
            fix="retry the same command",
        )

    def swap(self, name: str, expected: str | None, new: str) -> bool:
        ref = records.lease_ref(name)
        return transport.swap(
            self.wt, self.remote, [RefUpdate(ref, new, expected)], what=ref,
            fix="check that the server accepts pushes to refs/wt/* (receive.denyNonFastForwards "
            "is fine; a hook or a protected-ref rule is not)",
        )  # fmt: skip

    def names(self) -> dict[str, str]:
        refs = transport.ls_remote(self.wt, self.remote, LEASE_PREFIX + "*")
        return {ref.removeprefix(LEASE_PREFIX): oid for ref, oid in refs.items()}

    def fetch(self, oids: list[str]) -> None:
        transport.fetch_oids(self.wt, self.remote, oids)

    def record(self, oid: str) -> LeaseRecord:
        return records.read(self.wt, oid)


def open_store(wt: Worktree, remote: str | None, agent: str, lock_timeout: float) -> LeaseStore:
    if remote is None:
        return LocalStore(wt, agent, lock_timeout)
    return RemoteStore(wt, remote)
