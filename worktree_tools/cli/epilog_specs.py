"""The table behind every command's `--help` epilog (rendered by cli/epilogs.py): per command,
keyed by its words after `git wt` (`("task", "claim")`; wt-commit is `("commit",)`), the columns
it prints, the word lists of its states (keys of cli/epilog_words.WORD_LISTS) and the outcomes
it can end with. An outcome's code is EXIT_CODES'; a line with no note says MEANINGS' words.
"""

from __future__ import annotations

from worktree_tools.cli.epilog_tasks import TASK_SPECS
from worktree_tools.cli.epilog_types import Exit, Out, Spec

LOCKED = Exit(Out.LOCK_TIMEOUT)
LEASE_FIX = "git wt list (the agents it knows)"

WORKTREE_COLUMNS = (
    ("AGENT", "the owning agent (- for a worktree git wt did not create)"),
    ("LEASE", "its lease state (below)"),
    ("HEARTBEAT", "time since the owner's last heartbeat"),
    ("BRANCH", "the checked-out branch ((detached): none)"),
    ("HEAD", "the commit checked out (10 hex digits)"),
    ("DIRTY", "tracked paths with uncommitted changes"),
    ("UNTRACKED", "untracked, not ignored paths"),
    ("AHEAD", "commits on the branch that its base lacks"),
    ("HANDOFF", "yes: a handoff was left for whoever comes next"),
    ("DISK", "disk use (cached for wt.disk.cacheTtl seconds)"),
    ("PATH", "the worktree (moved by hand / missing when it is not there)"),
)
JOURNAL_EXITS = (
    Exit(Out.ERROR, "it could not verify (a shallow clone, OLD not found): treat as a failure"),
    Exit(Out.REJECTED, "a journal violation or a rewritten history"),
)
LEASE_EXITS = (
    Exit(Out.INVALID, "a bad name, TTL, --fence, --token or remote"),
    Exit(Out.CONFLICT, "someone else holds the lease (named)"),
    Exit(
        Out.REJECTED,
        "a stale token; the lease is free, released or expired and not yours; "
        "a push the server refused; an unreachable remote",
    ),
)
LEASE_COLUMNS = (
    ("NAME", "the lease"),
    ("STATE", "its state (below)"),
    ("HOLDER / HOST", "who holds it, on which machine"),
    ("TOKEN", "the fencing token: grows by one with every new holder"),
    ("EXPIRES", "seconds until it expires unless renewed"),
    ("WHERE", "the ref that stores it (and its remote)"),
)

SPECS: dict[tuple[str, ...], Spec] = {
    ("commit",): Spec(
        exits=(
            Exit(Out.COMMITTED),
            Exit(Out.UNCHANGED, "the paths already match the branch (a retry)"),
            Exit(
                Out.INVALID,
                "a refused path (outside, through a link, in a nested repository, "
                "ignored), no paths, or GIT_DIR/GIT_WORK_TREE naming another repository",
            ),
            LOCKED,
            Exit(
                Out.CONFLICT,
                "the branch moved and changed the same paths while hooks ran, the "
                "worktree switched branch or began a rebase or merge; with --push: the "
                "remote changed the same paths",
            ),
            Exit(Out.HOOK_FAILED, "a pre-commit or commit-msg hook refused"),
            Exit(Out.REJECTED, "signing failed, the ref update or the push was refused"),
        )
    ),
    ("alloc",): Spec(
        states=("lease", "declared"),
        exits=(
            Exit(
                Out.INVALID,
                "an unsafe agent name, a base that names no commit, --path onto a "
                "directory that is not the agent's worktree, a branch checked out "
                "elsewhere, a bad .wtconfig or slot",
            ),
            LOCKED,
            Exit(
                Out.HOOK_FAILED,
                "the .wtconfig setup failed; the worktree was made",
                word="setup_failed",
            ),
        ),
    ),
    ("list",): Spec(
        columns=WORKTREE_COLUMNS,
        states=("lease_column", "declared"),
        exits=(
            Exit(Out.INVALID, "an ownership record is corrupt (the readable rows print)"),
            LOCKED,
        ),
    ),
    ("status",): Spec(
        columns=WORKTREE_COLUMNS,
        states=("lease_column", "declared"),
        exits=(Exit(Out.INVALID, "an unknown agent or unsafe name; a corrupt record"), LOCKED),
    ),
    ("heartbeat",): Spec(
        states=("lease", "declared"),
        exits=(
            Exit(Out.INVALID, "an unknown agent, a bad --ttl"),
            LOCKED,
            Exit(Out.REJECTED, "the worktree was released (adopt or alloc it again)"),
        ),
    ),
    ("release",): Spec(
        states=("declared",),
        exits=(Exit(Out.INVALID, "an unknown agent, --state blocked without --blocker"), LOCKED),
    ),
    ("show",): Spec(
        states=("lease", "declared"), exits=(Exit(Out.INVALID, "an unknown agent or unsafe name"),)
    ),
    ("adopt",): Spec(
        states=("lease", "declared"),
        exits=(
            Exit(Out.INVALID, "an unknown agent or unsafe name"),
            LOCKED,
            Exit(Out.REJECTED, "the lease is live (active): adopt --force takes it anyway"),
        ),
    ),
    ("gc",): Spec(
        states=("gc_actions", "branch_actions"),
        exits=(
            Exit(Out.ERROR, "kept a worktree whose work it could not save (the rest collected)"),
            Exit(Out.INVALID, "an ownership record is corrupt: nothing changed"),
            Exit(
                Out.LOCK_TIMEOUT,
                "a lock was busy, or it skipped a worktree with a commit, git "
                "or a live process at work in it (the rest collected)",
            ),
            Exit(
                Out.ATTENTION,
                "a removed worktree left a directory something still writes "
                "into (doctor lists it as gc_leftover; run gc again later)",
            ),
        ),
    ),
    ("move",): Spec(
        exits=(
            Exit(Out.INVALID, "an unknown agent, a destination inside .git or in use"),
            Exit(Out.LOCK_TIMEOUT, "a lock was busy, or git is running in the worktree"),
            Exit(Out.REJECTED, "its owner is alive (move --force), or git refused the move"),
        )
    ),
    ("slot",): Spec(
        exits=(
            Exit(Out.INVALID, "a bad slot name or --range, an unknown agent, a corrupt slot table"),
            LOCKED,
            Exit(Out.REJECTED, "no free number in the range"),
        )
    ),
    ("trust",): Spec(
        states=("trust_states",),
        exits=(
            Exit(Out.UNCHANGED, "nothing to approve, already approved, or not approved"),
            Exit(
                Out.INVALID,
                "no person to ask (no terminal, or --json) and no --yes; an unreadable trust store",
            ),
        ),
    ),
    ("rescue", "list"): Spec(
        columns=(
            ("ID", "the rescue (give it to rescue restore)"),
            ("BRANCH", "the branch the worktree had"),
            ("SAVED", "uncommitted changes and/or unmerged commits"),
            ("FROM", "where the worktree was, and why gc removed it"),
        )
    ),
    ("rescue", "restore"): Spec(
        exits=(
            Exit(Out.INVALID, "an unknown rescue id, a destination that exists"),
            LOCKED,
        )
    ),
    ("doctor",): Spec(
        columns=(
            ("found / fixed", "left for a person, or repaired by --fix (with how to undo it)"),
            ("KIND", "what it is (below)"),
            ("SUBJECT: DETAIL", "the lock, patch, hook or worktree, and what about it"),
        ),
        states=("doctor_kinds",),
        exits=(
            Exit(Out.OK, "healthy, or --fix repaired everything"),
            LOCKED,
            Exit(Out.ATTENTION, "it found something it did not repair"),
        ),
    ),
    ("hooks", "install"): Spec(
        states=("hook_actions",),
        exits=(
            Exit(
                Out.INVALID,
                "a hook it will not move (binary, symlink, tracked: --chain-unknown), "
                "an invalid wt.hookCheckoutDir or wt.hookDeps",
            ),
        ),
    ),
    ("hooks", "uninstall"): Spec(states=("hook_actions",)),
    ("hooks", "status"): Spec(
        columns=(
            ("NAME", "the hook: pre-commit, pre-push, reference-transaction"),
            ("STATE", "what stands there (below), with the manager it is or chains"),
        ),
        states=("slot_states",),
    ),
    ("hooks", "run"): Spec(
        exits=(
            Exit(Out.LOCK_TIMEOUT, "the worktree's hook lock stayed held"),
            Exit(Out.REJECTED, "a journal violation"),
        ),
        other_exit="the chained hook's own exit code",
    ),
    ("guard", "hook"): Spec(
        exits=(
            Exit(Out.OK, "allowed (or wt.guard is warn/off)"),
            Exit(Out.REJECTED, "refused: an agent moved a branch it does not own"),
        )
    ),
    ("agent", "install"): Spec(exits=(Exit(Out.INVALID, "an unreadable harness config file"),)),
    ("agent", "uninstall"): Spec(exits=(Exit(Out.INVALID, "an unreadable harness config file"),)),
    ("agent", "hook"): Spec(exits=(Exit(Out.OK, "always: the answer is on stdout"),)),
    ("journal", "check"): Spec(
        exits=(
            Exit(Out.INVALID, "an unreadable .wtjournal"),
            Exit(Out.REJECTED, "the staged change breaks the journal rules"),
        )
    ),
    ("journal", "verify"): Spec(
        exits=(
            *JOURNAL_EXITS,
            Exit(Out.INVALID, "a...b, NEW is not a commit, an unreadable .wtjournal"),
        )
    ),
    ("journal", "checkpoint"): Spec(
        exits=(*JOURNAL_EXITS, Exit(Out.INVALID, "REV is not a commit"))
    ),
    ("journal", "append"): Spec(
        exits=(
            Exit(Out.COMMITTED),
            Exit(Out.INVALID, "unusable text (empty, binary); the entry has uncommitted changes"),
            LOCKED,
            Exit(Out.CONFLICT, "the branch moved and changed the same entry"),
            Exit(Out.HOOK_FAILED, "a hook refused the commit"),
            Exit(Out.REJECTED, "the entry would break the journal rules"),
        )
    ),
    ("journal", "pre-push"): Spec(exits=(*JOURNAL_EXITS, Exit(Out.INVALID, "bad input on stdin"))),
    ("land",): Spec(
        columns=(
            ("REQUEST", "--list: the request id (give it to --cancel)"),
            ("STATE", "its state (below)"),
            ("BRANCH -> TARGET", "what lands where"),
            ("SINCE / BY", "when it was queued, and by whom"),
        ),
        states=("land_states",),
        exits=(
            Exit(Out.LANDED, "the target has the branch's work"),
            Exit(Out.UNCHANGED, "the work was already in the target"),
            Exit(Out.QUEUED, "--no-wait: the request is in the queue"),
            Exit(Out.CANCELLED, "--cancel: the request was cancelled"),
            Exit(
                Out.INVALID,
                "an unknown agent or branch, a missing target, a bad option or config value",
            ),
            LOCKED,
            Exit(Out.CONFLICT, "the branch does not apply on the target; handed back to its agent"),
            Exit(Out.CHECK_FAILED, "the check failed on the integrated tree; handed back"),
        ),
    ),
    ("lease", "acquire"): Spec(states=("remote_lease_states",), exits=LEASE_EXITS),
    ("lease", "renew"): Spec(states=("remote_lease_states",), exits=LEASE_EXITS),
    ("lease", "release"): Spec(states=("remote_lease_states",), exits=LEASE_EXITS),
    ("lease", "list"): Spec(
        columns=LEASE_COLUMNS,
        states=("remote_lease_states",),
        exits=(Exit(Out.INVALID, "a bad remote"), Exit(Out.REJECTED, "an unreachable remote")),
    ),
    ("sync",): Spec(
        columns=(
            ("STATE", "what sync found or did (below)"),
            ("BRANCH in WORKTREE", "which worktree, and the commits it moved between"),
        ),
        states=("sync_states",),
        exits=(
            Exit(Out.OK, "every worktree up_to_date, fast_forwarded, ahead or no_remote_branch"),
            Exit(Out.INVALID, "a bad remote or agent"),
            Exit(Out.LOCK_TIMEOUT, "the repository lock stayed held"),
            Exit(Out.REJECTED, "an unreachable remote, a refused fetch"),
            Exit(Out.ATTENTION, "it left a worktree alone (diverged, dirty, blocked, detached)"),
        ),
    ),
    ("log",): Spec(
        columns=(
            ("TIME", "when (ISO 8601, UTC)"),
            ("AGENT", "who did it"),
            ("ACTION", "what was done (commit, alloc, gc_removed, ...)"),
            ("OUTCOME", "its outcome (committed, conflict, ...)"),
            ("DETAILS", "branch=, commit=, error=, lock=, paths=, hold= (lock time)"),
        )
    ),
    ("watch",): Spec(
        columns=(
            ("TIME", "when the scan saw the change (ISO 8601, UTC)"),
            ("CHANGE", "raised or cleared (--once prints the findings without it)"),
            ("KIND", "what it is (below)"),
            ("SUBJECT: DETAIL", "the agent, lock, branch, request or task, and what about it"),
        ),
        states=("finding_kinds", "changes"),
        exits=(
            Exit(Out.OK, "--once: healthy; the loop: it ended (--cycles, Ctrl-C)"),
            Exit(
                Out.ATTENTION, "--once: a finding needs a person, or a source could not be checked"
            ),
        ),
    ),
    ("mcp",): Spec(
        exits=(Exit(Out.INVALID, "the MCP SDK is missing: pip install worktree-tools[mcp]"),)
    ),
    ("schema",): Spec(exits=(Exit(Out.INVALID, "no such command"),)),
    ("help",): Spec(exits=(Exit(Out.INVALID, "no such command"),)),
    **TASK_SPECS,
}
