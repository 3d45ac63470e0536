"""Numbered slots (ports, database numbers, displays) as leases of agents.

`<common git dir>/wt/env/slots.json` holds who has which number, read-checked-written under the
repository lock, so concurrent agents always get distinct numbers. A number is held by its
agent as long as that agent's worktree lease lives; it is free again when the agent's record is
gone (gc) or released as done, and it is taken over from an owner that is provably dead or
whose lease expired (with the owner not alive here). An agent keeps its number across re-allocs;
its first choice in a range is a hash of agent and slot name, so it usually gets the same number
even after its worktree was collected. Numbers are distinct across all slot names: port 3012 of
one agent's `web` is never another agent's `api`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core import events
from worktree_tools.core.errors import InvalidInput, Rejected
from worktree_tools.core.statefiles import ENV_SLOTS as SLOTS_FILE
from worktree_tools.worktrees import lease, records
from worktree_tools.worktrees.common import Repo
from worktree_tools.worktrees.records import LeaseState, Record, RecordState

VERSION = 1
DEFAULT_RANGE = (3000, 3999)
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class Slot:
    name: str
    number: int
    agent: str
    low: int
    high: int
    taken_at: str

    @classmethod
    def parse(cls, data: Any) -> Slot:
        if not isinstance(data, dict):
            raise ValueError("slot is not an object")
        fields = {k: data.get(k) for k in ("name", "agent", "taken_at")}
        nums = {k: data.get(k) for k in ("number", "low", "high")}
        if not all(isinstance(v, str) for v in fields.values()):
            raise ValueError(f"slot has a missing or non-text field: {data!r}")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in nums.values()):
            raise ValueError(f"slot has a missing or non-integer number: {data!r}")
        return cls(**fields, **nums)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Taken:
    slot: Slot
    taken_over_from: str | None  # the dead or expired agent it was taken from
    unchanged: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "outcome": "unchanged" if self.unchanged else "ok",
            "agent": self.slot.agent,
            "slot": self.slot.name,
            "number": self.slot.number,
            "range": [self.slot.low, self.slot.high],
            "taken_over_from": self.taken_over_from,
        }


def check_slot_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"invalid slot name {name!r}: lower-case letters, digits, - and _, "
            "starting with a letter (it becomes WT_PORT_<NAME>)",
            fix="git wt slot AGENT web",
        )
    return name


def parse_range(raw: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", raw)
    if not m or int(m.group(1)) > int(m.group(2)):
        raise InvalidInput(
            f"invalid range {raw!r}: it is LOW-HIGH with LOW <= HIGH",
            fix="--range 3000-3999",
        )
    return int(m.group(1)), int(m.group(2))


def _path(repo: Repo) -> Path:
    return repo.state_dir / SLOTS_FILE


def load(repo: Repo) -> list[Slot]:
    """Every recorded slot. An unreadable table is reported, never overwritten."""
    path = _path(repo)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise _corrupt(path, exc) from None
    try:
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("not a version-1 slot table")
        items = data.get("slots")
        if not isinstance(items, list):
            raise ValueError("'slots' is not a list")
        return [Slot.parse(item) for item in items]
    except ValueError as exc:
        raise _corrupt(path, exc) from None


def _corrupt(path: Path, exc: Exception) -> InvalidInput:
    return InvalidInput(
        f"slot table {path} is corrupt ({exc}); nothing was changed",
        fix=f"inspect it, then repair or move away {path} (agents ask for their slots again)",
        record=os.fspath(path),
    )


def _save(repo: Repo, table: list[Slot]) -> None:
    data = {"version": VERSION, "slots": [s.to_json() for s in sorted(table, key=_order)]}
    records.atomic_write_json(_path(repo), data)


def _order(slot: Slot) -> tuple[str, str]:
    return slot.agent, slot.name


def holds(rec: Record | None, now: float) -> bool:
    """Whether an agent with this record still holds its slots."""
    if rec is None or rec.state is RecordState.DONE:
        return False
    state = lease.state_of(rec, now)
    if state is LeaseState.OWNER_DEAD:
        return False
    if state is LeaseState.EXPIRED:
        return lease.owner_alive(rec.owner) is True  # as gc: a running agent keeps its lease
    return True


def _holders(repo: Repo, table: list[Slot], now: float) -> tuple[set[str], set[str]]:
    """(agents that still hold their slots, agents without a record any more)."""
    live: set[str] = set()
    gone: set[str] = set()
    for agent in {s.agent for s in table}:
        try:
            rec = records.load(repo.state_dir, agent)
        except records.CorruptRecord:
            live.add(agent)  # unreadable counts as alive: its slots are never handed out
            continue
        if rec is None:
            gone.add(agent)
        elif holds(rec, now):
            live.add(agent)
    return live, gone


def of_agent(repo: Repo, agent: str) -> dict[str, int]:
    """AGENT's slots (name -> number) that it still holds."""
    table = load(repo)
    mine = [s for s in table if s.agent == agent]
    if not mine:
        return {}
    try:
        rec = records.load(repo.state_dir, agent)
    except records.CorruptRecord:
        return {s.name: s.number for s in mine}
    if not holds(rec, time.time()):
        return {}
    return {s.name: s.number for s in mine}


def recorded(repo: Repo, agent: str) -> dict[str, int]:
    """AGENT's numbers as the table has them, held or not (a teardown stops what used them)."""
    return {s.name: s.number for s in load(repo) if s.agent == agent}


def take(repo: Repo, agent: str, name: str, wanted: tuple[int, int] | None) -> Taken:
    """Give AGENT a number for NAME (its own again if it has one in range)."""
    check_slot_name(name)
    configured = repo.config(f"wt.slot.{name}.range")
    with repo.repo_lock():
        rec = records.require(repo.state_dir, agent)
        table = load(repo)
        now = time.time()
        mine = next((s for s in table if s.agent == agent and s.name == name), None)
        low, high = wanted or (
            parse_range(configured)
            if configured
            else ((mine.low, mine.high) if mine else DEFAULT_RANGE)
        )
        if mine is not None and low <= mine.number <= high:
            return Taken(mine, None, unchanged=True)
        alive, gone = _holders(repo, table, now)
        alive.add(agent)
        table = [s for s in table if s.agent not in gone]  # collected by gc: free
        live = {
            s.number: s
            for s in table
            if s.agent in alive and not (s.agent == agent and s.name == name)
        }
        number = _first_free(agent, name, low, high, live)
        if number is None:
            raise Rejected(
                f"every number in {low}-{high} is held by a live agent; nothing was changed",
                fix=f"git wt slot {agent} {name} --range {high + 1}-{high + 1 + (high - low)}",
            )
        stale = [s for s in table if s.number == number and s.agent != agent]
        new = Slot(name, number, agent, low, high, records.now_iso())
        table = [
            s for s in table if not (s.agent == agent and s.name == name) and s.number != number
        ]
        table.append(new)
        _save(repo, table)
        previous = stale[0].agent if stale else None
        events.append(
            repo.state_dir,
            "slot",
            agent,
            outcome="taken_over" if previous else "taken",
            slot=name,
            number=number,
            taken_over_from=previous,
            path=rec.path,
        )
    return Taken(new, previous, unchanged=False)


def _first_free(agent: str, name: str, low: int, high: int, live: dict[int, Slot]) -> int | None:
    size = high - low + 1
    start = int(hashlib.sha256(f"{agent}\0{name}".encode()).hexdigest(), 16) % size
    for i in range(size):
        number = low + (start + i) % size
        if number not in live:
            return number
    return None


def free(repo: Repo, agent: str) -> list[Slot]:
    """Drop AGENT's slots from the table (gc and `release --state done` free them anyway by
    their rule; this keeps the table tidy). The caller holds the repository lock."""
    table = load(repo)
    gone = [s for s in table if s.agent == agent]
    if gone:
        _save(repo, [s for s in table if s.agent != agent])
    return gone
