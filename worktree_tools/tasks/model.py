"""A task file: `tasks/ID.md`, a small front matter between `---` lines, then free text.

The front matter is the subset of YAML that people write by hand without surprises: one
`key: value` per line, where a value is `null`, an integer, a bare or double-quoted string, a
flow list `[a, b]`, or (for `handoff`) a JSON object. `Task.parse` is the one reader: anything
else raises CorruptTask naming the file and the command that repairs it. Keys it does not know
are kept as written, so a person's additions survive every rewrite.
"""

from __future__ import annotations

from worktree_tools.core import times
from worktree_tools.core.agent import valid_name
from worktree_tools.core.enums import Word
from worktree_tools.core.errors import InvalidInput
from worktree_tools.tasks import frontmatter
from worktree_tools.tasks.values import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TASKS_DIR = "tasks"
HUMAN = "human"
DEFAULT_PRIORITY = 2  # 0 is the most urgent
MAX_PRIORITY = 9
MAX_FILE_BYTES = 256 * 1024


class CorruptTask(InvalidInput):
    """A task file that cannot be read: reported, never overwritten."""


class TaskState(Word):
    OPEN = "open"
    CLAIMED = "claimed"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


def now_iso(t: float | None = None) -> str:
    """The one time format (core/times.py); a task file's times are written in it too."""
    return times.now_iso() if t is None else times.iso(t)


def parse_iso(text: str) -> float:
    """Epoch seconds of a task file's time; a person editing one must give the zone."""
    if not (text.endswith("Z") or "+" in text[10:] or "-" in text[10:]):
        raise ValueError(f"time {text!r} has no zone (write it in UTC, ending in Z)")
    return times.parse(text)


def normal_body(text: str) -> str:
    """The free text as stored: ending in a newline unless empty."""
    return text if not text or text.endswith("\n") else text + "\n"


def task_path(task_id: str) -> str:
    return f"{TASKS_DIR}/{task_id}.md"


def check_id(task_id: str) -> str:
    if not valid_name(task_id) or task_id == HUMAN:
        raise InvalidInput(
            f"invalid task id {task_id!r}: use 1-64 letters, digits, '.', '_', '-' or '@' "
            "(it becomes a file name and a ref name); 'human' is reserved"
        )
    return task_id


class Task(Value):
    """One task file. Equality ignores `extra` (as the dataclass it was did)."""

    __slots__ = (
        "assigned_to",
        "block_reason",
        "blocked_at",
        "blocked_on",
        "body",
        "claimed_at",
        "created",
        "depends_on",
        "extra",
        "handoff",
        "id",
        "next_action",
        "priority",
        "state",
        "title",
        "token",
        "took_over_from",
        "updated",
    )
    NOT_COMPARED = ("extra",)

    def __init__(
        self,
        id: str,
        title: str,
        state: TaskState = TaskState.OPEN,
        priority: int = DEFAULT_PRIORITY,
        assigned_to: str | None = None,
        token: int = 0,
        depends_on: tuple[str, ...] = (),
        blocked_on: str | None = None,
        block_reason: str | None = None,
        blocked_at: str | None = None,
        next_action: str | None = None,
        claimed_at: str | None = None,
        took_over_from: str | None = None,
        created: str = "",
        updated: str = "",
        handoff: dict[str, Any] | None = None,
        body: str = "",
        extra: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.id = id
        self.title = title
        self.state = state
        self.priority = priority
        self.assigned_to = assigned_to
        self.token = token  # the fencing token of the current (or last) claim
        self.depends_on = depends_on
        self.blocked_on = blocked_on  # "human" or a task id
        self.block_reason = block_reason
        self.blocked_at = blocked_at
        self.next_action = next_action
        self.claimed_at = claimed_at
        self.took_over_from = took_over_from
        self.created = created
        self.updated = updated
        self.handoff = handoff
        self.body = body
        self.extra = extra  # keys this version does not know, kept as written

    # ---- reading --------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, path: str) -> Task:
        """The task in `text` (the content of `path`); CorruptTask when it is not one."""
        try:
            return cls._parse(text, path)
        except (ValueError, TypeError, KeyError) as exc:
            stem = path.rsplit("/", 1)[-1].removesuffix(".md")
            raise CorruptTask(
                f"task file {path} is not a valid task ({exc}); it was left as it is",
                fix=f"git wt task edit {stem}  (or: git show BOARD:{path})",
                path=path,
            ) from None

    @classmethod
    def _parse(cls, text: str, path: str) -> Task:
        if len(text) > MAX_FILE_BYTES:
            raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
        lines = text.split("\n")
        if not lines or lines[0].rstrip("\r") != "---":
            raise ValueError("it does not start with a '---' front matter line")
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].rstrip("\r") == "---")
        except StopIteration:
            raise ValueError("its front matter has no closing '---' line") from None
        values: dict[str, Any] = {}
        extra: list[tuple[str, str]] = []
        seen: set[str] = set()
        for number, raw in enumerate(lines[1:end], start=2):
            line = raw.rstrip("\r")
            content = line.lstrip()
            if not content or content[0] == "#":
                continue
            match = frontmatter.key_line(line)
            if match is None:
                raise ValueError(f"line {number} is not `key: value`: {line[:60]!r}")
            key, rest = match[0], match[1].strip()
            if key in seen:
                raise ValueError(f"key {key!r} appears twice")
            seen.add(key)
            if key in _FIELDS:
                values[key] = frontmatter.read_value(rest, key)
            else:
                extra.append((key, rest))
        body = "\n".join(lines[end + 1 :])
        stem = path.rsplit("/", 1)[-1].removesuffix(".md")
        task = cls(
            id=frontmatter.req_str(values, "id"),
            title=frontmatter.req_str(values, "title"),
            state=TaskState(frontmatter.opt_str(values, "state") or "open"),
            priority=frontmatter.int_field(values.get("priority", DEFAULT_PRIORITY), "priority"),
            assigned_to=frontmatter.opt_str(values, "assigned_to"),
            token=frontmatter.int_field(values.get("token") or 0, "token"),
            depends_on=tuple(frontmatter.str_list(values.get("depends_on"), "depends_on")),
            blocked_on=frontmatter.opt_str(values, "blocked_on"),
            block_reason=frontmatter.opt_str(values, "block_reason"),
            blocked_at=frontmatter.opt_str(values, "blocked_at"),
            next_action=frontmatter.opt_str(values, "next_action"),
            claimed_at=frontmatter.opt_str(values, "claimed_at"),
            took_over_from=frontmatter.opt_str(values, "took_over_from"),
            created=frontmatter.req_str(values, "created"),
            updated=frontmatter.opt_str(values, "updated")
            or frontmatter.req_str(values, "created"),
            handoff=frontmatter.opt_dict(values.get("handoff"), "handoff"),
            body=body,
            extra=tuple(extra),
        )
        task.check(stem)
        return task

    def check(self, stem: str | None = None) -> None:
        """Raise ValueError unless every field makes sense together."""
        if not valid_name(self.id) or self.id == HUMAN:
            raise ValueError(f"id {self.id!r} is not a valid task id")
        if stem is not None and stem != self.id:
            raise ValueError(f"its id {self.id!r} does not match its file name")
        if not self.title.strip() or "\n" in self.title:
            raise ValueError("title must be one non-empty line")
        if not 0 <= self.priority <= MAX_PRIORITY:
            raise ValueError(f"priority must be 0 (most urgent) to {MAX_PRIORITY}")
        if self.token < 0:
            raise ValueError("token must be 0 or more")
        for dep in self.depends_on:
            if not valid_name(dep) or dep == self.id:
                raise ValueError(f"depends_on names an invalid task {dep!r}")
        if self.assigned_to is not None and not valid_name(self.assigned_to):
            raise ValueError(f"assigned_to {self.assigned_to!r} is not an agent name")
        if self.state is TaskState.CLAIMED and (self.assigned_to is None or self.token < 1):
            raise ValueError("a claimed task needs assigned_to and a token of 1 or more")
        if self.state is TaskState.BLOCKED:
            if self.blocked_on is None:
                raise ValueError("a blocked task needs blocked_on (human or a task id)")
            if self.blocked_on != HUMAN and not valid_name(self.blocked_on):
                raise ValueError(f"blocked_on {self.blocked_on!r} is neither human nor a task id")
        for name in ("created", "updated", "blocked_at", "claimed_at"):
            value = getattr(self, name)
            if value is not None and (name in ("created", "updated") or value):
                parse_iso(value)

    # ---- writing --------------------------------------------------------------------------

    def render(self) -> str:
        rows: list[tuple[str, str]] = [
            ("id", frontmatter.emit(self.id)),
            ("title", frontmatter.emit(self.title)),
            ("state", self.state.value),
            ("priority", str(self.priority)),
            ("assigned_to", frontmatter.emit(self.assigned_to)),
            ("token", str(self.token)),
            ("depends_on", "[" + ", ".join(frontmatter.emit(d) for d in self.depends_on) + "]"),
            ("blocked_on", frontmatter.emit(self.blocked_on)),
            ("block_reason", frontmatter.emit(self.block_reason)),
            ("blocked_at", frontmatter.emit(self.blocked_at)),
            ("next_action", frontmatter.emit(self.next_action)),
            ("claimed_at", frontmatter.emit(self.claimed_at)),
            ("took_over_from", frontmatter.emit(self.took_over_from)),
            ("created", frontmatter.emit(self.created)),
            ("updated", frontmatter.emit(self.updated)),
            ("handoff", "null" if self.handoff is None else frontmatter.json_text(self.handoff)),
            *self.extra,
        ]
        head = "\n".join(f"{k}: {v}" if v else f"{k}:" for k, v in rows)
        return f"---\n{head}\n---\n{normal_body(self.body)}"

    def with_changes(self, **changes: Any) -> Task:
        return self.replace(**changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "state": self.state.value,
            "priority": self.priority,
            "assigned_to": self.assigned_to,
            "token": self.token,
            "depends_on": list(self.depends_on),
            "blocked_on": self.blocked_on,
            "block_reason": self.block_reason,
            "blocked_at": self.blocked_at,
            "next_action": self.next_action,
            "claimed_at": self.claimed_at,
            "took_over_from": self.took_over_from,
            "created": self.created,
            "updated": self.updated,
            "handoff": self.handoff,
            "body": self.body.strip("\n") or None,
            "path": task_path(self.id),
        }


_FIELDS = {
    "id",
    "title",
    "state",
    "priority",
    "assigned_to",
    "token",
    "depends_on",
    "blocked_on",
    "block_reason",
    "blocked_at",
    "next_action",
    "claimed_at",
    "took_over_from",
    "created",
    "updated",
    "handoff",
}
