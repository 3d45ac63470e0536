"""The board on a git remote, for agents on several machines.

Reads list the board branch and the claim refs on the server and fetch exactly the objects
named (remote/transport: no remote-tracking ref is written). A change is pushed with `--atomic`
and `--force-with-lease=REF:EXPECTED` on every ref it moves: the server either takes all of them
from the values we decided on, or none.

The one local ref written is a cache, `refs/wt/task-cache/<remote>`, set best-effort to the
board tip last seen there, so that the next fetch can say "I have this" and receive only what
is new instead of the board's whole history.
"""

from __future__ import annotations

import contextlib
import re

from worktree_tools.core import refs
from worktree_tools.core.errors import Rejected, WtError
from worktree_tools.core.refs import RefUpdate
from worktree_tools.core.repo import Worktree
from worktree_tools.remote import transport
from worktree_tools.tasks.claims import CLAIM_PREFIX
from worktree_tools.tasks.objects import Listing
from worktree_tools.tasks.store import CACHE_PREFIX, READ_ATTEMPTS, Snapshot, load


class RemoteBoard:
    def __init__(self, wt: Worktree, ref: str, remote: str) -> None:
        self.wt = wt
        self.ref = ref
        self.remote = transport.check_remote(remote)
        self.where = f"remote:{remote}"
        self._cache = CACHE_PREFIX + (re.sub(r"[^A-Za-z0-9_.-]", "_", remote) or "remote")

    def read(self) -> Snapshot:
        for _ in range(READ_ATTEMPTS):
            tip = transport.ls_remote(self.wt, self.remote, self.ref).get(self.ref)
            refs = transport.ls_remote(self.wt, self.remote, CLAIM_PREFIX + "*")
            claims = {ref.removeprefix(CLAIM_PREFIX): oid for ref, oid in refs.items()}
            wanted = ([tip] if tip else []) + list(claims.values())
            if transport.fetch_oids(self.wt, self.remote, wanted):
                if tip is not None:
                    self._remember(tip)
                return load(self.wt, Listing(tip, claims, {}))
            # Something was replaced between listing and fetching: list again.
        raise Rejected(
            f"the task board on {self.remote} kept changing while it was read",
            fix="retry the same command",
        )

    def swap(self, updates: list[RefUpdate], deadline: float) -> bool:
        taken = transport.swap(
            self.wt, self.remote, updates, what="the task board",
            fix="check that the server accepts pushes to refs/wt/* and to the board branch "
            "(a hook or a protected-ref rule may refuse them)",
        )  # fmt: skip
        if taken:
            for u in updates:
                if u.ref == self.ref and u.new is not None:
                    self._remember(u.new)
        return taken

    def turn(self, deadline: float) -> contextlib.AbstractContextManager[object]:
        return contextlib.nullcontext()  # machines cannot share a lock: the server decides

    def _remember(self, tip: str) -> None:
        with contextlib.suppress(WtError):  # a cache: whoever moved it meanwhile stands
            was = refs.current(self.wt, self._cache)
            refs.move(self.wt, self._cache, tip, was, refs.reflog("git wt task", "-", "cache"))
