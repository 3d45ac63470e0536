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

from worktree_tools.contract.shapes import (
    AGENT_CHANGE,
    ARR_S,
    BASE_ID,
    BOOL,
    CHANGE,
    DIALECT,
    DOCTOR_FINDING,
    EVENT,
    FAILURES,
    GC_ITEM,
    HANDOFF,
    HANDOFF_NULL,
    INT,
    INT_NULL,
    LAND_REQUEST,
    LEASE,
    LEASE_ACTION,
    LEASE_STATE,
    LISTING,
    NUM,
    OBJ,
    OBJ_NULL,
    OID,
    OID_NULL,
    RECORD,
    RESCUE,
    S_NULL,
    SHIPPED,
    STATE,
    SYNC_ROW,
    TASK,
    TASK_NULL,
    TIME,
    VERSION,
    VIOLATIONS,
    WATCH_EVENT,
    WATCH_FINDING,
    S,
    arr,
    obj,
)
from worktree_tools.contract.shapes import (
    ENVELOPE as ENVELOPE,
)

# command -> the keys every successful object carries (beyond the envelope), with their types
COMMANDS: dict[str, dict[str, Any]] = {
    "commit": {
        "commit": OID_NULL,
        "parent": OID_NULL,
        "branch": S_NULL,
        "paths": ARR_S,
        "agent": S_NULL,
        "lock_wait_ms": NUM,
        "lock_hold_ms": NUM,
        "worktree_lock_wait_ms": NUM,
        "duration_ms": NUM,
        "hook_mode": S_NULL,
        "replays": INT,
        "warnings": ARR_S,
    },
    "alloc": {**RECORD, "reused": BOOL, "warnings": ARR_S, "env": OBJ_NULL},
    "list": LISTING,
    "status": LISTING,
    "heartbeat": {
        **RECORD,
        "lease_before": LEASE_STATE,
        "expires_at": TIME,
        "expires_epoch": NUM,
    },
    "release": {**RECORD, "handoff": HANDOFF, "held_task": OBJ_NULL, "teardown": OBJ_NULL},
    "show": {
        **RECORD,
        "lease": LEASE_STATE,
        "handoff": HANDOFF_NULL,
        "slots": OBJ,
        "env_file": S_NULL,
    },
    "adopt": {**RECORD, "lease_before": LEASE_STATE, "handoff": HANDOFF},
    "move": {"agent": S, "worktree": S, "previous_worktree": S, "branch": S},
    "gc": {"dry_run": BOOL, "worktrees": arr(GC_ITEM), "pruned": ARR_S, "moved": arr(OBJ)},
    "rescue list": {"rescues": arr(RESCUE)},
    "rescue restore": {
        **RESCUE["properties"],
        "worktree": S,
        "original_worktree": S_NULL,
        "branch": S_NULL,
        "original_branch": S_NULL,
    },
    "doctor": {"findings": arr(DOCTOR_FINDING)},
    "watch": {"findings": arr(WATCH_FINDING), "errors": arr()},
    "log": {"count": INT, "events": arr(EVENT)},
    "hooks install": {"hooks_dir": S, "changes": arr(CHANGE)},
    "hooks uninstall": {"changes": arr(CHANGE)},
    "hooks status": {
        "hooks_dir": S,
        "git_wt": S_NULL,
        "hooks": arr(
            obj({"hook": S, "path": S, "state": STATE, "manager": S_NULL, "chained": BOOL})
        ),
    },
    "journal check": {"tree": OID, "parents": arr(OID), "config": S, "violations": VIOLATIONS},
    "journal verify": {
        "old": OID_NULL,
        "new": OID,
        "commits": INT,
        "merges": INT,
        "unchanged_journal": INT,
        "config": S,
        "checkpoint": OBJ_NULL,
        "violations": VIOLATIONS,
        "accepted_policy_changes": VIOLATIONS,
    },
    "journal checkpoint": {
        "ref": S,
        "ref_commit": OID,
        "previous": OID_NULL,
        "verified_commit": OID,
        "digest": S,
        "files": INT,
        "commits_verified": INT,
        "agent": S,
    },
    "journal append": {
        "path": S,
        "created": BOOL,
        "agent": S,
        "commit": OID_NULL,
        "appended_bytes": INT,
    },
    "journal pre-push": {"remote": S, "refs": arr(OBJ), "violations": VIOLATIONS},
    "sync": {"remote": S, "worktrees": arr(SYNC_ROW)},
    "lease acquire": LEASE_ACTION,
    "lease renew": LEASE_ACTION,
    "lease release": LEASE_ACTION,
    "lease list": {"where": S, "leases": arr(LEASE)},
    "schema": {},
    "land": {"requests": arr(LAND_REQUEST)},
    "task add": {"task_id": S, "tasks": ARR_S},
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
    "agent install": AGENT_CHANGE,
    "agent uninstall": AGENT_CHANGE,
    "slot": {
        "agent": S,
        "slot": S,
        "number": INT,
        "range": arr(INT),
        "taken_over_from": S_NULL,
        "worktree": S,
        "env_file": S_NULL,
    },
    "trust": {},
}


# a stream: one object a line, each a change (no outcome: the run has none until it ends)
STREAMS: dict[str, dict[str, Any]] = {"watch event": WATCH_EVENT}
NAMES = [*COMMANDS, *STREAMS]


def schema(command: str) -> dict[str, Any]:
    """The standalone schema of one command's output (KeyError for an unknown command)."""
    if command in STREAMS:
        return {
            "$schema": DIALECT,
            "$id": f"{BASE_ID}/{command.replace(' ', '-')}.json",
            "title": "one line of git wt watch --json (without --once)",
            **STREAMS[command],
            "properties": {
                "schema_version": {"const": VERSION},
                **STREAMS[command]["properties"],
            },
            "required": ["schema_version", *STREAMS[command]["required"]],
        }
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

    rendered = {shipped_path(c): render(c) for c in NAMES}
    return write_or_check(rendered, argv, "worktree_tools.contract.schemas")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
