"""The building blocks of the JSON contract's schemas: the types, the envelope every object
keeps, and the shapes several commands share (the ownership record, a handoff, a lease, a
finding...). contract/schemas.py assembles one schema per command from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

VERSION = 1
DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = f"https://worktree-tools.invalid/schemas/v{VERSION}"
SHIPPED = Path(__file__).resolve().parent.parent / "schemas"

FAILURES = [
    "error", "invalid", "lock_timeout", "conflict", "hook_failed", "check_failed", "rejected",
    "attention",
]  # fmt: skip

S: dict[str, Any] = {"type": "string"}
S_NULL: dict[str, Any] = {"type": ["string", "null"]}
INT: dict[str, Any] = {"type": "integer"}
NUM: dict[str, Any] = {"type": "number"}
NUM_NULL: dict[str, Any] = {"type": ["number", "null"]}
BOOL: dict[str, Any] = {"type": "boolean"}
OBJ: dict[str, Any] = {"type": "object"}
OBJ_NULL: dict[str, Any] = {"type": ["object", "null"]}
OID: dict[str, Any] = {"type": "string", "pattern": "^([0-9a-f]{40}|[0-9a-f]{64})$"}
OID_NULL: dict[str, Any] = {"anyOf": [OID, {"type": "null"}]}


def arr(items: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "array", "items": items or {}}


def obj(required: dict[str, Any], **optional: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {**required, **optional},
        "required": sorted(required),
    }


ENVELOPE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "schema_version": {"const": VERSION},
        "outcome": {"type": "string", "pattern": "^[a-z][a-z_]*$"},
        "exit_code": {"type": "integer", "minimum": 1, "maximum": 7},
        "error": S_NULL,
        "fix": S_NULL,
    },
    "required": ["schema_version", "outcome"],
}

TIME: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$",
}
TIME_NULL: dict[str, Any] = {"anyOf": [TIME, {"type": "null"}]}
INT_NULL: dict[str, Any] = {"type": ["integer", "null"]}
BOOL_NULL: dict[str, Any] = {"type": ["boolean", "null"]}
ARR_S: dict[str, Any] = {"type": "array", "items": S}
# a state or kind: snake_case, one vocabulary in every command
STATE: dict[str, Any] = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
STATE_NULL: dict[str, Any] = {"anyOf": [STATE, {"type": "null"}]}


def enum(*values: str) -> dict[str, Any]:
    return {"enum": list(values)}


RECORD_STATE = enum("active", "done", "handoff", "blocked")
LEASE_STATE = enum("active", "expired", "owner_dead", "released", "blocked")
OWNER = obj({"pid": INT, "host": S, "started": TIME_NULL, "started_epoch": NUM_NULL})
# the ownership record, flat in alloc, heartbeat, release, show and adopt
RECORD: dict[str, Any] = {
    "agent": S,
    "worktree": S,
    "admin_dir": S,
    "branch": S,
    "base": S,
    "base_oid": S,
    "owner": OWNER,
    "created": TIME,
    "heartbeat": TIME,
    "ttl": NUM,
    "state": RECORD_STATE,
    "task": S_NULL,
    "released_at": TIME_NULL,
    "adopted_from": S_NULL,
    "forced": BOOL,
}
FILE_STATUS = obj({"status": S, "path": S})
HANDOFF = obj(
    {
        "agent": S,
        "state": RECORD_STATE,
        "created": TIME,
        "branch": S,
        "base": S,
        "head": S_NULL,
        "merge_base": S_NULL,
        "commits": arr(obj({"oid": S, "subject": S})),
        "files": arr(FILE_STATUS),
        "uncommitted": arr(FILE_STATUS),
        "remaining": S_NULL,
        "next_step": S_NULL,
        "blockers": ARR_S,
        "assumptions": ARR_S,
        "task": S_NULL,
        "adopted_by": arr(obj({"agent": S, "at": TIME, "from": S, "forced": BOOL})),
    }
)
HANDOFF_NULL: dict[str, Any] = {"anyOf": [HANDOFF, {"type": "null"}]}
DISK: dict[str, Any] = {
    "disk_bytes": INT_NULL,
    "disk_shared_bytes": INT_NULL,
    "disk_files": INT_NULL,
    "disk_measured_at": TIME_NULL,
    "disk_measured_epoch": NUM_NULL,
}
ROW = obj(
    {
        "worktree": S_NULL,  # null: a corrupt record (lease "corrupt", with error)
        "agent": S_NULL,
        "branch": S_NULL,
        "head": S_NULL,
        "dirty": INT_NULL,
        "untracked": INT_NULL,
        "ahead": INT_NULL,
        "base": S_NULL,
        "lease": {"anyOf": [LEASE_STATE, enum("unmanaged", "corrupt")]},
        "heartbeat_age": NUM_NULL,
        "handoff": BOOL,
        "missing": BOOL,
        "locked": S_NULL,
        "owner_alive": BOOL_NULL,
        "expires_in": NUM_NULL,
        "error": S_NULL,
        "moved": BOOL,
        "moved_to": S_NULL,
        "task": S_NULL,
        "owner": {"anyOf": [OWNER, {"type": "null"}]},
        "created": TIME_NULL,
        "ttl": NUM_NULL,
        "state": {"anyOf": [RECORD_STATE, {"type": "null"}]},
        "adopted_from": S_NULL,
        "forced": BOOL_NULL,
        "slots": OBJ,
        **DISK,
    }
)
LISTING = {"worktrees": arr(ROW), "errors": ARR_S}
GC_ITEM = obj(
    {
        "agent": S,
        "worktree": S,
        "branch": S_NULL,  # null: a leftover of a killed gc (lease "leftover")
        "lease": STATE,
        "action": enum("removed", "would_remove", "kept", "skipped", "failed", "restored"),
        "reason": S,
        "rescue": S_NULL,
        "branch_action": {"anyOf": [enum("deleted", "would_delete", "kept"), {"type": "null"}]},
        "branch_oid": S_NULL,
        "notes": ARR_S,
        "moved_to": S_NULL,
        "left_behind": ARR_S,
    }
)
DOCTOR_FINDING = obj(
    {"kind": STATE, "subject": S, "detail": S, "fixable": BOOL, "fixed": BOOL, "undo": S_NULL}
)
WATCH_FINDING = obj({"kind": STATE, "subject": S, "detail": S})
# one line of `watch --json` without --once (no envelope of its own: a stream of changes)
WATCH_EVENT = obj(
    {"ts": TIME, "cycle": INT, "kind": STATE, "change": STATE, "subject": S, "detail": S}
)
# an event, or a line of the log that is not one (shown, never hidden: core/events.py)
EVENT: dict[str, Any] = {
    "anyOf": [
        obj({"ts": TIME, "action": S, "agent": S}),
        obj({"corrupt": S, "line": INT, "why": S, "path": S, "fix": S_NULL}),
    ]
}
LEASE = obj(
    {
        "name": S,
        "where": S,
        # token null: no record, or a corrupt one (state "corrupt", with error and fix)
        "state": enum("free", "held", "expired", "released", "corrupt"),
        "token": INT_NULL,
        "record_oid": S_NULL,
        "holder": S_NULL,
        "host": S_NULL,
        "pid": INT_NULL,
        "acquired_at": TIME_NULL,
        "acquired_epoch": NUM_NULL,
        "renewed_at": TIME_NULL,
        "renewed_epoch": NUM_NULL,
        "ttl": NUM_NULL,
        "expires_at": TIME_NULL,
        "expires_epoch": NUM_NULL,
        "expires_in": NUM_NULL,
    }
)
LEASE_ACTION = {**LEASE["properties"], "action": S, "took_over_from": S_NULL, "already_held": BOOL}
CHANGE = obj({"hook": S, "action": STATE, "detail": S_NULL})
VIOLATION = obj(
    {"commit": S_NULL, "parent": S_NULL, "path": S, "kind": STATE, "detail": S, "hint": S}
)
VIOLATIONS = arr(VIOLATION)
RESCUE = obj(
    {"id": S, "ref": S, "commit": S, "head": S, "index_commit": S, "worktree": S_NULL,
     "created": TIME_NULL}
)  # fmt: skip
SYNC_ROW = obj(
    {
        "worktree": S_NULL,  # null: a corrupt record (lease "corrupt", with error)
        "branch": S_NULL,
        "state": STATE,
        "before": S_NULL,
        "after": S_NULL,
        "remote_tip": S_NULL,
        "detail": S_NULL,
    }
)
LAND_REQUEST = obj(
    {"request": S, "outcome": S, "state": STATE, "branch": S, "target": S, "strategy": S,
     "head": OID, "enqueued_at": TIME, "enqueued_epoch": NUM},
    agent=S_NULL, remote=S_NULL, commit=OID_NULL, old=OID_NULL, finished_at=TIME_NULL,
    finished_epoch=NUM_NULL, paths={"type": ["array", "null"]}, check_tail=S_NULL,
    checkouts=arr(obj({"worktree": S, "left_alone": arr(S)})), error=S_NULL, fix=S_NULL,
)  # fmt: skip
AGENT_CHANGE = {
    "harness": S,
    "dry_run": BOOL,
    "path": S,
    "action": STATE,
}
TASK = obj(
    {"id": S, "title": S, "state": STATE, "priority": INT, "token": INT, "assigned_to": S_NULL}
)
TASK_NULL: dict[str, Any] = {"anyOf": [TASK, {"type": "null"}]}
