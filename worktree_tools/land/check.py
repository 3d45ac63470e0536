"""Run the land check in an isolated checkout of exactly the integrated tree.

The checkout is the same machinery as isolated hooks (hooks/checkout.py): a private repository
(its own refs and stash, the repository's objects through alternates, the dependency
directories of `wt.hookDeps` mirrored read-only), one per queue (its lander is its only user),
synced to the integrated commit before each run (files = its tree, HEAD = it, leftovers
cleaned). No live worktree is touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from worktree_tools.core.gitcmd import clean_env
from worktree_tools.core.repo import Worktree
from worktree_tools.hooks import checkout
from worktree_tools.land.requests import key_name

TIMEOUT_EXIT = 124  # what timeout(1) exits with
TAIL_LINES = 40
TAIL_CHARS = 4000


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    returncode: int
    tail: str
    ms: float
    tree: str
    cached: bool = False


def checkout_dir(wt: Worktree, target: str, remote: str | None) -> Path:
    """Outside every `.git` directory (test runners such as Jest skip any path containing
    `/.git/`): beside the main worktree in `../REPO.worktrees/.land/`, as hook checkouts are."""
    main = wt.commondir.parent if wt.commondir.name == ".git" else wt.commondir
    root = main.parent / f"{main.name.removesuffix('.git')}.worktrees" / ".land"
    return root / key_name(target, remote)


def checkout_for(wt: Worktree, target: str, remote: str | None) -> Worktree:
    """The queue's isolated checkout (created on first use; its lander is its only user)."""
    return checkout.ensure(wt, checkout.HookConfig.read(wt), checkout_dir(wt, target, remote))


def run_check(
    wt: Worktree,
    hw: Worktree,
    command: str,
    commit: str,
    tree: str,
    *,
    target: str,
    timeout: float | None,
) -> CheckResult:
    """`sh -c COMMAND` in the isolated checkout `hw` of `wt`'s repository, synced to `commit`
    first; after `timeout` seconds its whole process group is killed and the check fails."""
    start = time.monotonic()
    checkout.sync(wt, hw, commit, tree, checkout.HookConfig.read(wt))
    env = clean_env(
        {
            "WT_LAND_TARGET": target,
            "WT_LAND_COMMIT": commit,
            "WT_LAND_TREE": tree,
            "WT_LAND_CHECKOUT": os.fspath(hw.toplevel),
        }
    )
    proc = subprocess.Popen(
        ["sh", "-c", command],
        cwd=hw.toplevel,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: a timeout kills all of it
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        out += f"\nwt land: the check timed out after {timeout:g}s and was killed\n".encode()
        code = TIMEOUT_EXIT
    text = out.decode("utf-8", "replace")
    tail = "\n".join(text.splitlines()[-TAIL_LINES:])[-TAIL_CHARS:]
    ms = round((time.monotonic() - start) * 1000, 3)
    return CheckResult(code == 0, code, tail, ms, tree)
