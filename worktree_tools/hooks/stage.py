"""Where a commit's hooks run, and which index they see.

- isolated: in the hook checkout (see checkout), synced to the tree being committed. No other
  agent's live file and nobody's stash entry is ever touched; fixes the hooks make (left in the
  files or staged by the manager) are carried back only to committed paths whose live file is
  unchanged.
- in-place: in the live worktree with GIT_INDEX_FILE naming the private index, like
  `git commit -- PATHS`. For a worktree owned by the committing agent: hook managers may stash
  and restore its other files, but nobody else's; hooks that can use the shared stash hold the
  repository's hook-stash lock (see stashlock) while they run.

`auto` (the default) is in-place when the worktree's recorded owner is the committing agent, and
isolated otherwise. A root commit (no parent to check out) always runs in place.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from worktree_tools.core import notices
from worktree_tools.core.agent import recorded_owner
from worktree_tools.core.errors import CorruptState, HookFailed, InvalidInput
from worktree_tools.core.gitcmd import clean_env
from worktree_tools.core.locks import HOOK_LOCK, Holder, RecordedLock
from worktree_tools.core.repo import Worktree
from worktree_tools.hooks import checkout as hookcheckout
from worktree_tools.hooks import marker, stashlock
from worktree_tools.hooks import run as hookrun

# HOOK_LOCK is held while any commit hook runs in a worktree, by wt-commit and by the guard
# shim that plain `git commit` runs. wt-commit never holds it while waiting for index.lock
# (plain git takes index.lock first, then this lock): the two orders can never form a cycle.
HELD_ENV = marker.HELD_ENV
NOT_FOUND = {126: "found but not executable", 127: "command not found"}


class HookMode(str, Enum):
    AUTO = "auto"
    ISOLATED = "isolated"
    IN_PLACE = "in-place"

    @classmethod
    def parse(cls, text: str) -> HookMode:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidInput(
                f"unknown hook mode {text!r}: use auto, isolated or in-place"
            ) from None


@dataclass
class HookStage:
    wt: Worktree
    mode: HookMode
    cwd: Path
    index: Path
    env: dict[str, str]
    agent: str = ""
    deadline: float = 0.0
    checkout: Worktree | None = None
    tip: str | None = None
    nonce: str = ""
    deps: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    fixes_written: list[str] = field(default_factory=list)

    def run(self, name: str, args: list[str], *, tree: str | None = None) -> None:
        """Run one hook; HookFailed (with auto-fixes carried back) when it fails."""
        if hookrun.find(self.wt.hooks_dir, name) is None:
            return
        holder = Holder.me(self.agent)
        shared_stash = self.checkout is None and stashlock.uses_stash(
            self.wt.hooks_dir, name, self.wt.toplevel
        )
        with contextlib.ExitStack() as locks:
            locks.enter_context(
                RecordedLock(self.wt.gitdir / HOOK_LOCK, "hook lock", holder, self.deadline)
            )
            locks.enter_context(
                stashlock.held(self.wt.state_dir, holder, self.deadline, shared_stash)
            )
            ran = hookrun.run(
                self.wt.hooks_dir, name, args, cwd=self.cwd, env=self.env,
                record=self.wt.gitdir / hookrun.RECORD_NAME, nonce=self.nonce,
            )  # fmt: skip
        if ran is None:
            return
        self.ran.append(name)
        if self.checkout is not None:
            hookcheckout.export_objects(self.checkout, self.wt)
        carried = None
        if self.checkout is not None and tree is not None:
            carried = hookcheckout.carry_back_fixes(self.wt, self.checkout, self.tip, tree)
            self.fixes_written += carried.written
            if carried.written:
                notices.say("the hook's fixes were written to: " + ", ".join(carried.written))
            if carried.not_written:
                notices.say(
                    "fixes not written (the live file changed, or not a committed path): "
                    + ", ".join(carried.not_written)
                )
        if ran.returncode == 0:
            return
        details: dict[str, object] = {}
        fix = "fix what the hook reports and run the same wt-commit again"
        if carried is not None:
            details = {"fixes_written": carried.written, "fixes_not_written": carried.not_written}
            if carried.written:
                fix = "review the hook's fixes, then run the same wt-commit again"
        message = f"the {name} hook failed (exit {ran.returncode}); nothing was committed"
        if ran.returncode in NOT_FOUND:
            message, fix = self._not_found(name, ran.returncode)
            details["hook_error"] = "command_not_found"
        raise HookFailed(
            message,
            fix=fix,
            hook=name,
            hook_exit=ran.returncode,
            hook_output=ran.output[-4000:] or None,
            hook_mode=self.mode.value,
            **details,
        )

    def _not_found(self, name: str, code: int) -> tuple[str, str]:
        what = NOT_FOUND[code]
        message = (
            f"the {name} hook could not run a command it needs (exit {code}: {what}); "
            "this is not a finding of the hook; nothing was committed"
        )
        if self.checkout is None:
            return message, (
                "install the tool the hook calls in this worktree (npm install, pip install ...) "
                "or put it on PATH, then run the same wt-commit again"
            )
        have = ", ".join(self.deps) or "none"
        message += (
            f". Hooks ran in the isolated checkout {self.cwd}, which has these dependency "
            f"directories of the live worktree: {have}"
        )
        return message, (
            "name the directory that holds the tool (git config --add wt.hookDeps DIR), or "
            "install it in the live worktree or on PATH, or run the hooks in place "
            "(wt-commit --hooks in-place ...)"
        )

    def staged_tree(self) -> str:
        """The tree as the hooks left it staged (git re-reads the index after pre-commit)."""
        return self.wt.git(["write-tree"], index=self.index).out.strip()


def prepare(
    wt: Worktree,
    mode: HookMode,
    agent: str,
    private_index: Path,
    tip: str | None,
    tree: str,
    deadline: float,
) -> HookStage:
    """Set up where the hooks run for a commit of `tree` on `tip`."""
    resolved = mode
    if mode is HookMode.AUTO:
        try:
            owner = recorded_owner(wt.gitdir)
        except CorruptState:  # ownership unproven: the safe place (the agent was named)
            owner = None
        resolved = HookMode.IN_PLACE if owner == agent else HookMode.ISOLATED
    if tip is None:
        resolved = HookMode.IN_PLACE
    nonce = marker.new_nonce()
    base_env = {"GIT_EDITOR": ":", HELD_ENV: marker.mark(wt.gitdir, nonce)}
    if resolved is HookMode.IN_PLACE:
        env = clean_env({"GIT_INDEX_FILE": os.fspath(private_index), **base_env})
        return HookStage(
            wt, resolved, wt.toplevel, private_index, env, agent=agent, deadline=deadline,
            tip=tip, nonce=nonce,
        )  # fmt: skip
    assert tip is not None
    config = hookcheckout.HookConfig.read(wt)
    hw = hookcheckout.ensure(wt, config)
    linked = hookcheckout.sync(wt, hw, tip, tree, config)
    env = clean_env(base_env)
    return HookStage(
        wt, resolved, hw.toplevel, hw.index_path, env, agent=agent, deadline=deadline,
        checkout=hw, tip=tip, nonce=nonce, deps=linked,
    )  # fmt: skip
