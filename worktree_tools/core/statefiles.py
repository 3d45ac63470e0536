"""Every file and directory worktree-tools keeps, named once (docs/state.md describes each).

Three places hold state:
- the shared state dir, `<common git dir>/wt/` (`STATE_DIR`), seen by every worktree;
- each worktree's own git dir (`<worktree git dir>/`, the admin dir of a linked worktree);
- the worktree itself (`.wt/`, and the checked-in config files at its top).
Lock files are named in core/locks.py, beside the one order they are taken in.

Modules that own a file import its name from here; no path component is written as a literal
anywhere else. Names only: no imports, so anything may import this.
"""

from __future__ import annotations

# ---- <common git dir>/ ----------------------------------------------------------------------
STATE_DIR = "wt"  # the shared state dir

# ---- <common git dir>/wt/ -------------------------------------------------------------------
EVENTS_LOG = "events.jsonl"  # the append-only event log (core.events)
RECORDS_DIR = "worktrees"  # one directory per agent: owner.json, handoff.json, move.json
HOOK_WORKTREES = "hook-worktrees"  # isolated hook checkouts (hooks.checkout)
RESCUED_PATCHES = "rescued-patches"  # pre-commit patches doctor secured
OLD_TREES = "trees"  # where alloc placed worktrees before issue 16 (still honoured)
GC_MARKERS = "gc-aside"  # a marker per directory gc renamed aside and did not finish removing
GUARD_PASSES = "guard"  # pass-PID files of a ref move in progress (core.permit)
IDENTITY_BASELINE = "identity-baseline.json"  # the fleet's starting identity (core.identity)
ENV_SLOTS = "env/slots.json"  # environment slot numbers (env.slots)
DISK_CACHE = "env/disk.json"  # cached disk use of worktrees (env.disk)
LAND_DIR = "land"  # the land queue: requests/ID.json, its queue and lander locks
LAND_REQUESTS = "requests"  # under LAND_DIR: one file per land request
STATE_TMP = "tmp"  # scratch space of rescue and gc (checkouts, drained files)

# ---- <common git dir>/ (git's own) -----------------------------------------------------------
GIT_WORKTREES = "worktrees"  # git's admin dirs of linked worktrees

# ---- <common git dir>/wt/worktrees/AGENT/ ---------------------------------------------------
OWNER_JSON = "owner.json"  # the ownership record and lease
HANDOFF_JSON = "handoff.json"  # the handoff left by release
MOVE_INTENT = "move.json"  # a move in progress (worktrees.move)

# ---- <worktree git dir>/ --------------------------------------------------------------------
OWNER_FILE = "wt-owner"  # the worktree's recorded owner: wt-commit's default agent
COMMIT_TMP = "wt-tmp"  # private index and message of a wt-commit in progress
HOOK_RECORD = "wt-hooks.json"  # the running hook's process group (hooks.run)
DOTGIT_LINK = "wt-dotgit"  # hard link of the worktree's .git file (tells a move from a deletion)
ENV_STATE = "wt-env.json"  # what the environment setup did (env.wtdir)

# ---- the worktree ---------------------------------------------------------------------------
WT_DIR = ".wt"  # per-worktree files the tools write (ignored by git)
WT_ENV = "env"  # .wt/env: KEY=value lines a shell can source
WT_SETUP_LOG = "setup.log"  # .wt/setup.log
ENV_CONFIG = ".wtconfig"  # checked in: environment setup and teardown
JOURNAL_CONFIG = ".wtjournal"  # checked in: append-only journal rules
INCLUDE_FILE = ".worktreeinclude"  # checked in: ignored files copied into new worktrees

# Directories under the state dir that hold worktrees, checkouts or records, never locks.
NOT_LOCK_DIRS = frozenset({OLD_TREES, HOOK_WORKTREES, RECORDS_DIR, RESCUED_PATCHES, LAND_DIR})
