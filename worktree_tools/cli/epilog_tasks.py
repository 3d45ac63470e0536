"""The `--help` epilog entries of `git wt task ...` (part of the table in cli/epilog_specs.py)."""

from __future__ import annotations

from worktree_tools.cli.epilog_types import Exit, Out, Spec

TASK_EXITS = (
    Exit(Out.UNCHANGED, "nothing to do (already held, already done)"),
    Exit(Out.LOCK_TIMEOUT, "the local turn lock stayed held (the holder is named)"),
    Exit(Out.CONFLICT, "the board kept changing past --lock-timeout"),
)
BOARD_REFUSED = Exit(
    Out.REJECTED, "the board branch is checked out in a worktree, or the remote refused the push"
)
CLAIM_REFUSED = Exit(
    Out.REJECTED,
    "someone else holds the claim (named); a stale --token; a blocked, done or cancelled task; "
    "dependencies not done; the board branch checked out in a worktree; the remote refused",
)
TASK_SPECS: dict[tuple[str, ...], Spec] = {
    ("task", "add"): Spec(
        exits=(
            *TASK_EXITS,
            Exit(Out.INVALID, "a bad or taken id, an unknown dependency, a cycle"),
            BOARD_REFUSED,
        )
    ),
    ("task", "block"): Spec(
        exits=(
            *TASK_EXITS,
            Exit(Out.INVALID, "an unknown task, --on an unknown task"),
            CLAIM_REFUSED,
        )
    ),
    ("task", "claim"): Spec(
        exits=(*TASK_EXITS, Exit(Out.INVALID, "an unknown or unreadable task"), CLAIM_REFUSED),
    ),
    ("task", "done"): Spec(
        exits=(
            *TASK_EXITS,
            Exit(Out.INVALID, "an unknown task, no --token"),
            CLAIM_REFUSED,
        )
    ),
    ("task", "edit"): Spec(
        exits=(
            *TASK_EXITS,
            Exit(Out.INVALID, "an unknown task, an edit of the claim fields, a bad field"),
            Exit(Out.CONFLICT, "the task changed while you edited it; the board kept changing"),
            BOARD_REFUSED,
        )
    ),
    ("task", "heartbeat"): Spec(
        exits=(*TASK_EXITS, Exit(Out.INVALID, "an unknown task"), CLAIM_REFUSED),
    ),
    ("task", "list"): Spec(
        columns=(
            ("ID", "the task"),
            ("STATE", "its state (below)"),
            ("P", "its priority (P0 first)"),
            ("HOLDER", "the agent that holds it (- none)"),
            (
                "TITLE [..]",
                "its title, then what it waits on, why it is blocked, or its "
                "claim's lease (expired, owner_dead) when not active",
            ),
        ),
        states=("task_states",),
        exits=(Exit(Out.ATTENTION, "a task file or claim record is unreadable"),),
    ),
    ("task", "next"): Spec(
        exits=(
            Exit(Out.OK, "claimed the most urgent ready task, or none is ready (task: null)"),
            Exit(Out.UNCHANGED, "you hold a live claim already: that task"),
            *TASK_EXITS[1:],
            BOARD_REFUSED,
        ),
    ),
    ("task", "release"): Spec(
        exits=(
            *TASK_EXITS,
            Exit(Out.INVALID, "an unknown task"),
            CLAIM_REFUSED,
        )
    ),
    ("task", "show"): Spec(
        states=("task_states",),
        exits=(Exit(Out.INVALID, "an unknown or unreadable task"),),
    ),
    ("task", "unblock"): Spec(
        exits=(
            *TASK_EXITS,
            Exit(Out.INVALID, "an unknown task"),
            CLAIM_REFUSED,
        )
    ),
}
