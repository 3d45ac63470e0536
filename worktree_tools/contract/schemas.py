"""The versioned JSON contract: one JSON Schema (draft 2020-12) per command's `--json` output.

Every object keeps one envelope (`schema_version`, `outcome`; `exit_code` on every object that is
not a success, and `error` and `fix` on every refusal); each command adds the keys that are
always there on success. The shipped files under `worktree_tools/schemas/` are rendered from
this module (`python -m worktree_tools.contract.schemas --write`); `git wt schema COMMAND`
prints one.
"""

from __future__ import annotations

import json
import sys
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

FINDING = obj({"kind": S, "subject": S, "detail": S})
RECORD = obj({"agent": S, "branch": S_NULL, "state": S})
ROW = obj({"agent": S_NULL, "branch": S_NULL, "lease": S})
# token null: a corrupt lease record (state "corrupt", with error and fix)
LEASE = obj({"name": S, "state": S, "token": {"type": ["integer", "null"]}})
CHANGE = obj({"hook": S, "action": S})
VIOLATIONS = arr(obj({"kind": S}))
LAND_REQUEST = obj(
    {"request": S, "outcome": S, "state": S, "branch": S, "target": S, "strategy": S,
     "head": OID, "enqueued_at": S, "enqueued_epoch": NUM},
    agent=S_NULL, remote=S_NULL, commit=OID_NULL, old=OID_NULL, finished_at=S_NULL,
    finished_epoch=NUM_NULL, paths={"type": ["array", "null"]}, check_tail=S_NULL,
    checkouts=arr(obj({"worktree": S, "left_alone": arr(S)})), error=S_NULL, fix=S_NULL,
)  # fmt: skip
INT_NULL: dict[str, Any] = {"type": ["integer", "null"]}
TASK = obj({"id": S, "title": S, "state": S, "priority": INT, "token": INT, "assigned_to": S_NULL})
TASK_NULL: dict[str, Any] = {"anyOf": [TASK, {"type": "null"}]}

# command -> the keys every successful object carries (beyond the envelope)
COMMANDS: dict[str, dict[str, Any]] = {
    "commit": {"commit": OID_NULL, "branch": S_NULL, "paths": arr(S), "agent": S_NULL},
    "alloc": {"agent": S, "branch": S, "state": S},
    "list": {"worktrees": arr(ROW)},
    "status": {"worktrees": arr(ROW)},
    "heartbeat": {"agent": S, "state": S},
    "release": {"record": RECORD},
    "show": {"record": RECORD},
    "adopt": {"agent": S, "adopted_from": S, "record": RECORD},
    "gc": {"dry_run": BOOL, "worktrees": arr(obj({"action": S}))},
    "rescue list": {"rescues": arr(obj({"id": S, "ref": S}))},
    "rescue restore": {},
    "doctor": {"findings": arr(FINDING)},
    "watch": {"findings": arr(FINDING)},
    "log": {"count": INT, "events": arr(OBJ)},
    "hooks install": {"changes": arr(CHANGE)},
    "hooks uninstall": {"changes": arr(CHANGE)},
    "hooks status": {"hooks": arr(obj({"hook": S, "state": S}))},
    "journal check": {"violations": VIOLATIONS},
    "journal verify": {"violations": VIOLATIONS},
    "journal checkpoint": {},
    "journal append": {},
    "journal pre-push": {"violations": VIOLATIONS},
    "sync": {"worktrees": arr(obj({"state": S}))},
    "lease acquire": {"name": S, "state": S, "token": INT},
    "lease renew": {"name": S, "state": S, "token": INT},
    "lease release": {"name": S, "state": S},
    "lease list": {"leases": arr(LEASE)},
    "schema": {},
    "land": {"requests": arr(LAND_REQUEST)},
    "task add": {"task_id": S, "tasks": arr(S)},
    "task list": {"tasks": arr(TASK), "counts": OBJ, "errors": arr(OBJ)},
    "task show": {"task_id": S, "task": TASK, "handoff": OBJ_NULL},
    "task next": {"action": S, "task_id": S_NULL, "token": INT_NULL, "task": TASK_NULL},
    "task claim": {"action": S, "task_id": S, "token": INT, "task": TASK},
    "task heartbeat": {"action": S, "task_id": S, "token": INT, "task": TASK},
    "task release": {"action": S, "task_id": S, "token": INT, "task": TASK},
    "task done": {"action": S, "task_id": S, "token": INT, "task": TASK},
    "task block": {"task_id": S},
    "task unblock": {"task_id": S},
    "task edit": {"task_id": S},
    "agent install": {"harness": S, "dry_run": BOOL, "path": S, "action": S},
    "agent uninstall": {"harness": S, "dry_run": BOOL, "path": S, "action": S},
    "move": {"agent": S, "worktree": S, "previous_worktree": S, "branch": S},
    "slot": {"agent": S, "slot": S, "number": INT, "worktree": S},
    "trust": {},
}


def schema(command: str) -> dict[str, Any]:
    """The standalone schema of one command's output (KeyError for an unknown command)."""
    keys = COMMANDS[command]
    return {
        "$schema": DIALECT,
        "$id": f"{BASE_ID}/{command.replace(' ', '-')}.json",
        "title": f"git wt {command} --json" if command != "commit" else "wt-commit --json",
        "allOf": [ENVELOPE],
        "properties": keys,
        "if": {"properties": {"outcome": {"enum": FAILURES}}, "required": ["outcome"]},
        "then": {"required": ["exit_code"]},
        "else": {"required": sorted(keys)},
    }


def command_of(argv: list[str]) -> str | None:
    """The schema name for a command line (`["hooks", "install", "--json"]` -> "hooks install")."""
    words = [a for a in argv if not a.startswith("-")]
    for n in (2, 1):
        name = " ".join(words[:n])
        if len(words) >= n and name in COMMANDS:
            return name
    return None


def shipped_path(command: str) -> Path:
    return SHIPPED / f"{command.replace(' ', '-')}.json"


def render(command: str) -> str:
    return json.dumps(schema(command), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """`--write` renders every shipped file; otherwise exit 1 when one is stale."""
    from worktree_tools.contract.generated import write_or_check

    rendered = {shipped_path(c): render(c) for c in COMMANDS}
    return write_or_check(rendered, argv, "worktree_tools.contract.schemas")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
