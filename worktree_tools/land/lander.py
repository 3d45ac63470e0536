"""The lander: the one process working a queue (a target, or a remote's target) at a time.

It holds the queue's lander lock (a flock: it dies with the process) and, request by request or
in batches: claims them, builds the integrated commits on the target's tip, checks the top of
the batch, moves the target by compare-and-swap, records the outcome. A red batch is bisected
(the largest green prefix lands, the culprit is handed back, the rest is rebuilt). Every step
is in the request file first, so the next lander can finish what a killed one started:
a request `swapping` whose planned commit is in the target landed; anything else is requeued.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from worktree_tools.core import events, faults
from worktree_tools.core.repo import Worktree
from worktree_tools.land import ledger
from worktree_tools.land import requests as rq
from worktree_tools.land import target as tg
from worktree_tools.land.check import CheckResult, checkout_for, run_check
from worktree_tools.land.handback import hand_back
from worktree_tools.land.integrate import Conflict, Integrated, integrate, open_odb
from worktree_tools.land.ledger import Timing
from worktree_tools.land.requests import Lander, Request, State

MAX_REBUILDS = 50  # the target moved under us this often in one batch: requeue, let others go


@dataclass
class Run:
    wt: Worktree
    target: str
    remote: str | None
    agent: str
    batch: int
    lock_timeout: float
    me: Lander = field(default_factory=Lander.me)
    cache: dict[tuple[str, str], CheckResult] = field(default_factory=dict)
    timing: dict[str, Timing] = field(default_factory=dict)
    _odb: Any = None
    _checkout: Worktree | None = None

    @property
    def odb(self) -> Any:
        if self._odb is None:
            self._odb = open_odb(self.wt)
        return self._odb

    @property
    def state_dir(self) -> Any:
        return self.wt.state_dir

    def deadline(self) -> float:
        return time.monotonic() + self.lock_timeout

    # ---- the queue ---------------------------------------------------------------------------

    def _mine(self) -> list[Request]:
        reqs, _bad = rq.load_all(self.state_dir)
        return [r for r in reqs if r.key == (self.target, self.remote)]

    def drain(self) -> None:
        self.recover()
        while True:
            queued = [r for r in self._mine() if r.state is State.QUEUED]
            if not queued:
                return
            group: list[Request] = []
            for r in queued:  # consecutive requests with one check: FIFO, one check per batch
                same = (r.check, r.check_timeout) == (queued[0].check, queued[0].check_timeout)
                if not same or len(group) >= max(1, self.batch):
                    break
                group.append(r)
            if not self.process(group):
                return  # the target kept moving: leave the queue to the next lander

    def _update(
        self, changes: Callable[[Request], Request | None], ids: list[str], durable: bool = True
    ) -> list[Request]:
        return ledger.update(self.state_dir, self.agent, self.deadline(), changes, ids, durable)

    def recover(self) -> None:
        """Requests a dead lander left `landing` (we hold the lander lock: it is dead)."""
        for req in self._mine():
            if req.state is not State.LANDING:
                continue
            if req.stage == "swapping" and req.planned is not None and self._landed(req.planned):
                old, new = req.planned["old"], req.planned["new"]
                sync = self._sync_after(old, new)
                self._finish(
                    req,
                    State.LANDED,
                    {"commit": new, "old": old, "recovered": True, "checkouts": sync},
                )
                continue
            self._update(
                lambda r: (
                    r.with_changes(
                        state=State.QUEUED,
                        lander=None,
                        stage=None,
                        planned=None,
                        attempts=r.attempts + 1,
                    )
                    if r.state is State.LANDING
                    else None
                ),
                [req.id],
            )
            events.append(
                self.state_dir,
                "land_requeued",
                self.agent,
                request=req.id,
                branch=req.branch,
                target=self.target,
                stage=req.stage,
            )

    def _landed(self, planned: dict[str, str]) -> bool:
        tip = self.tip()
        if tip is None:
            return False
        return (
            self.wt.git(
                ["merge-base", "--is-ancestor", planned["new"], tip], check=False
            ).returncode
            == 0
        )

    # ---- one batch ---------------------------------------------------------------------------

    def process(self, group: list[Request]) -> bool:
        """Land `group`; False when it had to be put back in the queue."""
        now = time.time()
        pending = self._update(
            lambda r: (
                r.with_changes(state=State.LANDING, lander=self.me, stage="integrating")
                if r.state is State.QUEUED
                else None
            ),
            [r.id for r in group],
            durable=False,
        )
        for r in pending:
            self.timing[r.id] = Timing(picked=now)
        faults.point("land-claimed")
        rebuilds = 0
        while pending:
            if rebuilds > MAX_REBUILDS:
                self._update(
                    lambda r: (
                        r.with_changes(state=State.QUEUED, lander=None, stage=None)
                        if r.state is State.LANDING
                        else None
                    ),
                    [r.id for r in pending],
                )
                return False
            rebuilds += 1
            tip = self.tip()
            if tip is None:
                for r in pending:
                    self._handback(r, State.CONFLICT, f"{self._where()} does not exist", None, {})
                return True
            chain = self._integrate(pending, tip)
            faults.point("land-integrated")
            pending = self._land_chain(tip, chain)
        return True

    def _integrate(self, reqs: list[Request], tip: str) -> list[tuple[Request, Integrated]]:
        chain: list[tuple[Request, Integrated]] = []
        cur = tip
        for r in reqs:
            start = time.monotonic()
            try:
                it = integrate(
                    self.wt, self.odb, cur, r.head, r.strategy, branch=r.branch, target=self.target
                )
            except Conflict as err:
                paths = list(err.details.get("paths", []))
                self._handback(r, State.CONFLICT, err.message, None, {"paths": paths})
                continue
            finally:
                self.timing[r.id].integrate_ms += (time.monotonic() - start) * 1000
            if it.unchanged:
                self._finish(r, State.UNCHANGED, {"commit": cur})
                continue
            chain.append((r, it))
            cur = it.commit
        return chain

    def _land_chain(self, tip: str, chain: list[tuple[Request, Integrated]]) -> list[Request]:
        """Land `chain` (built on `tip`), bisecting a red check. Returns the requests to rebuild
        on the target's new tip (the target moved, or a culprit was taken out)."""
        if not chain:
            return []
        top_req, top = chain[-1]
        result = self._check(top_req, top, [r for r, _ in chain])
        if result is None or result.ok:
            return self._swap(tip, chain)
        if len(chain) == 1:
            self._handback(
                top_req,
                State.CHECK_FAILED,
                f"the check `{top_req.check}` failed with exit code {result.returncode} on "
                f"{top.commit[:12]}",
                result.tail,
                {"check_exit_code": result.returncode, "check_tail": result.tail or None},
            )
            return []
        mid = len(chain) // 2
        rest = self._land_chain(tip, chain[:mid])
        if rest or not all(self._state(r) is State.LANDED for r, _ in chain[:mid]):
            return rest + [r for r, _ in chain[mid:]]  # built on what did not land: rebuild
        return self._land_chain(chain[mid - 1][1].commit, chain[mid:])

    def _check(self, top: Request, it: Integrated, reqs: list[Request]) -> CheckResult | None:
        command = top.check
        if not command:
            return None
        key = (command, it.tree)
        cached = self.cache.get(key)
        if cached is None:
            if self._checkout is None:
                self._checkout = checkout_for(self.wt, self.target, self.remote)
            cached = run_check(
                self.wt,
                self._checkout,
                command,
                it.commit,
                it.tree,
                target=self.target,
                timeout=top.check_timeout,
            )
            self.cache[key] = cached
            for r in reqs:
                self.timing[r.id].check_ms += cached.ms
                self.timing[r.id].checks += 1
        faults.point("land-checked")
        return cached

    def _unplan(self, ids: list[str]) -> None:
        """The planned move is off (a request was cancelled, the target moved): the requests
        still landing go back to being integrated."""
        self._update(
            lambda r: (
                r.with_changes(stage="integrating", planned=None)
                if r.state is State.LANDING
                else None
            ),
            ids,
        )

    def _swap(self, tip: str, chain: list[tuple[Request, Integrated]]) -> list[Request]:
        new = chain[-1][1].commit
        planned = {"old": tip, "new": new}
        ids = [r.id for r, _ in chain]
        marked = self._update(
            lambda r: (
                r.with_changes(stage="swapping", planned=planned)
                if r.state is State.LANDING and r.lander == self.me
                else None
            ),
            ids,
        )
        if len(marked) != len(ids):  # one was cancelled meanwhile: build again without it
            self._unplan(ids)
            return [r for r in marked]
        faults.point("land-planned")
        start = time.monotonic()
        sync: list[dict[str, Any]] = []
        local: dict[str, Any] | None = None
        try:
            if self.remote is None:
                reports = tg.move_local(
                    self.wt,
                    self.target,
                    tip,
                    new,
                    agent=self.agent,
                    reason=self._reason(chain),
                    deadline=self.deadline(),
                )
                sync = [s.to_json() for s in reports]
            else:
                if not tg.push_remote(self.wt, self.remote, self.target, new):
                    raise tg.Moved(None)
                local = tg.follow_remote(
                    self.wt, self.target, self.remote, new, self.agent, self.deadline()
                )
        except tg.Moved:
            self._unplan(ids)
            return [r for r, _ in chain]
        ms = (time.monotonic() - start) * 1000
        for r, it in chain:
            self.timing[r.id].swap_ms += ms
            self._finish(
                r,
                State.LANDED,
                {
                    "commit": new,
                    "old": tip,
                    "integrated": it.commit,
                    "commits": it.commits,
                    "batch": ids,
                    "checkouts": sync,
                    "local": local,
                },
            )
            faults.point("land-finished")
        return []

    def _sync_after(self, old: str, new: str) -> list[dict[str, Any]]:
        if self.remote is not None:
            return []
        reports = tg.sync_checkout(
            self.wt, self.target, old, new, agent=self.agent, deadline=self.deadline()
        )
        return [s.to_json() for s in reports]

    # ---- outcomes ----------------------------------------------------------------------------

    def _state(self, req: Request) -> State | None:
        now = rq.load(self.state_dir, req.id)
        return now.state if now else None

    def _handback(
        self, req: Request, state: State, why: str, detail: str | None, extra: dict[str, Any]
    ) -> None:
        written = hand_back(self.wt, req, state, why, detail, self.lock_timeout)
        where = f"in the worktree of {req.branch}"
        first = (
            f"{where}: git rebase {self._where()} and resolve"
            if state is State.CONFLICT
            else f"{where}: make the check pass"
        )
        fix = f"{first}, then: {req.retry_command()}"
        self._finish(req, state, {"error": why, "fix": fix, **extra, "handback": written})

    def _finish(self, req: Request, state: State, result: dict[str, Any]) -> None:
        ledger.finish(
            self.state_dir,
            self.agent,
            self.deadline(),
            req,
            state,
            result,
            self.timing.get(req.id),
            self.me.pid,
        )

    # ---- the target --------------------------------------------------------------------------

    def tip(self) -> str | None:
        if self.remote is None:
            now = self.wt.resolve(f"refs/heads/{self.target}")
            return now[0] if now else None
        return tg.remote_tip(self.wt, self.remote, self.target)

    def _where(self) -> str:
        return f"{self.remote}/{self.target}" if self.remote else self.target

    def _reason(self, chain: list[tuple[Request, Integrated]]) -> str:
        names = ", ".join(r.branch for r, _ in chain)
        return f"git wt land ({self.agent}): {names} into {self.target}"
