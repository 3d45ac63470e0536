"""The board as tasks: every file parsed (the unreadable ones reported, never dropped silently),
each claim judged, and which tasks `next` may take, in order.

`next` takes, in this order: the most urgent priority (0 first), then the oldest, then the id.
A task is ready when it is open and every task it depends on is done; a claimed task whose
owner died or whose lease expired is ready too (it is taken over). When agents keep colliding
on the same task, a loser picks among the equally urgent ready tasks at random (see `pick`).
"""

from __future__ import annotations

from worktree_tools.tasks.claims import ClaimRecord, Lease, claim_ref, judge
from worktree_tools.tasks.model import HUMAN, CorruptTask, Task, TaskState, check_id, task_path
from worktree_tools.tasks.values import Value
from worktree_tools.worktrees.records import LeaseState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from worktree_tools.tasks.store import Snapshot

SPREAD = 8  # after a lost swap, choose among this many equally urgent tasks


# Parsed tasks by (blob id, path): a blob's content never changes, so neither does its task.
_PARSED: dict[tuple[str, str], Task] = {}


def _parse(oid: str, raw: bytes, path: str) -> Task:
    key = (oid, path)
    task = _PARSED.get(key)
    if task is None:
        task = Task.parse(raw.decode("utf-8"), path)
        if len(_PARSED) > 50_000:
            _PARSED.clear()
        _PARSED[key] = task
    return task


class Board(Value):
    __slots__ = ("bad_claims", "claims", "corrupt", "now", "snap", "tasks")

    def __init__(
        self,
        snap: Snapshot,
        tasks: dict[str, Task],
        corrupt: dict[str, CorruptTask],  # task id (file stem) -> why
        claims: dict[str, ClaimRecord],  # task id -> record
        bad_claims: dict[str, str],  # task id -> record oid, for records that cannot be read
        now: float,
    ) -> None:
        self.snap = snap
        self.tasks = tasks
        self.corrupt = corrupt
        self.claims = claims
        self.bad_claims = bad_claims
        self.now = now

    @classmethod
    def of(cls, snap: Snapshot, now: float) -> Board:
        tasks: dict[str, Task] = {}
        corrupt: dict[str, CorruptTask] = {}
        for name, entry in sorted(snap.files.items()):
            if not name.endswith(".md"):
                continue
            stem = name.removesuffix(".md")
            path = f"tasks/{name}"
            raw = snap.blobs.get(entry.oid)
            if raw is None:
                corrupt[stem] = CorruptTask(
                    f"task file {path} is not a file", fix=f"git wt task edit {stem}", path=path
                )
                continue
            try:
                tasks[stem] = _parse(entry.oid, raw, path)
            except UnicodeDecodeError as exc:
                corrupt[stem] = CorruptTask(
                    f"task file {path} is not UTF-8 text ({exc})",
                    fix=f"git wt task edit {stem}",
                    path=path,
                )
            except CorruptTask as err:
                corrupt[stem] = err
        claims: dict[str, ClaimRecord] = {}
        bad: dict[str, str] = {}
        for task_id, oid in snap.claims.items():
            try:
                claims[task_id] = ClaimRecord.parse(snap.blobs.get(oid, b""))
            except ValueError:
                bad[task_id] = oid
        return cls(snap, tasks, corrupt, claims, bad, now)

    # ---- one task -------------------------------------------------------------------------

    def get(self, task_id: str) -> Task:
        """The task, or InvalidInput (unknown) / CorruptTask (unreadable)."""
        from worktree_tools.core.errors import InvalidInput

        check_id(task_id)
        if task_id in self.corrupt:
            raise self.corrupt[task_id]
        task = self.tasks.get(task_id)
        if task is None:
            raise InvalidInput(
                f"no task {task_id!r} on the board", fix="git wt task list", task=task_id
            )
        return task

    def record(self, task_id: str) -> ClaimRecord | None:
        return self.claims.get(task_id)

    def lease(self, task: Task) -> Lease:
        if task.id in self.bad_claims and task.state is TaskState.CLAIMED:
            # Unreadable counts as alive: a holder is judged gone only on proof.
            return Lease(LeaseState.ACTIVE, None, "its claim record is unreadable; counted as held")
        return judge(task, self.claims.get(task.id), self.now)

    def next_token(self, task: Task) -> int:
        record = self.claims.get(task.id)
        return max(task.token, record.token if record else 0) + 1

    def waiting_on(self, task: Task) -> list[str]:
        """The dependencies of `task` that are not done yet (unknown ones included)."""
        return [
            d
            for d in task.depends_on
            if d not in self.tasks or self.tasks[d].state is not TaskState.DONE
        ]

    def ready(self, task: Task) -> bool:
        if self.waiting_on(task):
            return False
        if task.state is TaskState.OPEN:
            return True
        return task.state is TaskState.CLAIMED and self.lease(task).takeable

    def blocked_by_task(self, task_id: str) -> list[Task]:
        return [
            t
            for t in self.tasks.values()
            if t.state is TaskState.BLOCKED and t.blocked_on == task_id
        ]

    # ---- the queue ------------------------------------------------------------------------

    def candidates(self) -> list[Task]:
        ready = [t for t in self.tasks.values() if self.ready(t)]
        return sorted(ready, key=lambda t: (t.priority, t.created, t.id))

    def pick(self, round_: int) -> Task | None:
        """The task to try to claim: the first candidate, or after a lost swap one of the
        first few equally urgent ones, so that colliding agents spread out."""
        ready = self.candidates()
        if not ready:
            return None
        if round_ == 0:
            return ready[0]
        same = [t for t in ready[:SPREAD] if t.priority == ready[0].priority]
        import random

        return random.choice(same)

    def held_by(self, agent: str) -> list[Task]:
        return [
            t
            for t in self.tasks.values()
            if t.state is TaskState.CLAIMED and t.assigned_to == agent
        ]

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in TaskState}
        for t in self.tasks.values():
            out[t.state.value] += 1
        out["ready"] = len(self.candidates())
        out["corrupt"] = len(self.corrupt)
        return out

    def view(self, task: Task) -> dict[str, Any]:
        """A task as commands report it: the file's fields plus what is derived from them."""
        data = task.to_json()
        lease = self.lease(task) if task.state is TaskState.CLAIMED else None
        record = self.claims.get(task.id)
        data["claim"] = record.to_json(self.now) if record else None
        data["lease"] = lease.state.value if lease else None
        data["lease_detail"] = lease.why if lease else None
        data["waiting_on"] = self.waiting_on(task)
        data["ready"] = self.ready(task)
        data["blocked_on_human"] = task.state is TaskState.BLOCKED and task.blocked_on == HUMAN
        return data

    def errors(self) -> list[dict[str, Any]]:
        out = [
            {"task": k, "path": task_path(k), "error": e.message, "fix": e.fix}
            for k, e in sorted(self.corrupt.items())
        ]
        for task_id, oid in sorted(self.bad_claims.items()):
            out.append(
                {
                    "task": task_id,
                    "path": claim_ref(task_id),
                    "error": f"claim record {claim_ref(task_id)} ({oid[:12]}) is unreadable; "
                    "its task counts as held",
                    "fix": f"git cat-file -p {oid}; if nobody holds {task_id}: "
                    f"git update-ref -d {claim_ref(task_id)} {oid}",
                }
            )
        return out
