"""wt-commit's core: commit exactly the named paths, never anyone else's work.

The commit's tree is HEAD's tree plus the named paths as `git add -A` would stage them (git's
own filters, modes and ignore rules apply; see staging); hooks run where they cannot touch other
agents' files (see hookstage); the commit object is made by `git commit-tree` (identity, signing
and encoding as git does them). Only then are the locks taken for the mutation itself (see land):

    worktree lock (held from the start: commits in one worktree never overlap, hooks included)
      -> index.lock (git's own lock, so no git process writes the index meanwhile)
        -> repository lock (shared by every worktree: held only for the mutation)
"""

from __future__ import annotations

import os
import time

from worktree_tools.commit import message, paths
from worktree_tools.commit.build import Config, Settings
from worktree_tools.commit.locate import locate
from worktree_tools.commit.request import CommitRequest, CommitResult
from worktree_tools.commit.staging import private_index, stage_paths
from worktree_tools.commit.swap import Moved, land, replay
from worktree_tools.commit.tip import journal_gate, read_tip
from worktree_tools.core import agent as agent_mod
from worktree_tools.core import commits, events, faults, notices, statefiles
from worktree_tools.core.catfile import CatFile
from worktree_tools.core.entries import covered
from worktree_tools.core.errors import (
    HookFailed,
    InvalidInput,
    Outcome,
    PathRefused,
    RefMoved,
    WtError,
)
from worktree_tools.core.fields import git_bool
from worktree_tools.core.locks import HOOK_LOCK, WORKTREE_LOCK, Holder, RecordedLock
from worktree_tools.core.loose import LooseObjects
from worktree_tools.core.repo import Worktree
from worktree_tools.core.scratch import remove_tree
from worktree_tools.core.statefiles import COMMIT_TMP as TMP_DIR
from worktree_tools.core.statefiles import JOURNAL_CONFIG as JOURNAL_CONFIG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


MAX_REPLAYS = 5
HOOK_MODES = ("auto", "isolated", "in-place")  # hookstage.HookMode, without importing it
COMMIT_HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg")  # hooks.run's, likewise


def run(req: CommitRequest) -> CommitResult:
    """Commit `req.paths`; raise a WtError subclass for every outcome but committed/unchanged."""
    start = time.monotonic()
    # Read the message first: -F - consumes stdin, and bad input must fail before any lock.
    raw_message = message.compose(req.messages, req.message_file, req.cwd)
    wt, config = locate(req.cwd)
    name, _source = agent_mod.resolve(req.agent, wt.gitdir_str)
    result = CommitResult(Outcome.COMMITTED, agent=name)
    try:
        _commit(wt, req, raw_message, result, config)
    except WtError as err:
        result.duration_ms = (time.monotonic() - start) * 1000
        for key in ("branch", "paths", "lock_wait_ms", "lock_hold_ms"):
            err.details.setdefault(key, getattr(result, key))
        err.details.setdefault("agent", name)
        _log(wt, result, outcome=err.outcome, error=err.message)
        raise
    result.duration_ms = (time.monotonic() - start) * 1000
    _log(wt, result, outcome=result.outcome)
    return result


def _log(wt: Worktree, result: CommitResult, *, outcome: Outcome, error: str | None = None) -> None:
    fields: dict[str, Any] = {
        "outcome": outcome.value,
        "worktree": wt.toplevel_str,
        "branch": result.branch,
        "commit": result.commit,
        "parent": result.parent,
        "paths": result.paths[:100],
        "path_count": len(result.paths),
        "lock_wait_ms": round(result.lock_wait_ms, 3),
        "lock_hold_ms": round(result.lock_hold_ms, 3),
        "duration_ms": round(result.duration_ms, 3),
    }
    if error is not None:
        fields["error"] = error
    events.append(wt.state_dir_str, "commit", result.agent, **fields)


def _commit(
    wt: Worktree,
    req: CommitRequest,
    raw_message: bytes,
    result: CommitResult,
    config: Config,
) -> None:
    try:
        rels = paths.normalize(
            list(req.paths), cwd=req.cwd, toplevel=wt.toplevel_str, whole_tree=req.whole_tree
        )
    except PathRefused as err:
        if err.details.get("kind") in ("no_paths", "whole_tree"):
            from pathlib import Path

            from worktree_tools.guard.suggest import suggest_fix

            suggest_fix(err, wt, req.messages, req.message_file, Path(req.cwd))
        raise
    result.paths = rels
    ref = wt.committable_branch()  # checked again under the locks, before anything moves
    result.branch = ref.removeprefix("refs/heads/")
    mode = req.hooks or config.get("wt.hooks") or "auto"
    if mode not in HOOK_MODES:
        raise InvalidInput(f"unknown hook mode {mode!r} (wt.hooks): use {', '.join(HOOK_MODES)}")
    deadline = time.monotonic() + req.lock_timeout
    holder = Holder.me(result.agent)
    lock_path = os.path.join(wt.gitdir_str, WORKTREE_LOCK)
    with RecordedLock(lock_path, "worktree lock", holder, deadline) as wlock:
        result.worktree_lock_wait_ms = wlock.wait_ms
        _reap_orphaned_hooks(wt, result.agent)
        tmp = _fresh_tmp_dir(wt)
        try:
            _commit_locked(wt, req, raw_message, result, rels, ref, config, mode, deadline, tmp)
        finally:
            remove_tree(tmp)


def _reap_orphaned_hooks(wt: Worktree, agent: str) -> None:
    """A wt-commit killed mid-hook leaves its hook running (RACES R2): end it before we start.
    We hold the worktree lock the dead committer held, so no live commit owns that hook."""
    record = os.path.join(wt.gitdir_str, statefiles.HOOK_RECORD)
    if not os.path.exists(record):
        return
    from pathlib import Path

    from worktree_tools.hooks import run as hookrun

    reaped = hookrun.reap_orphans(Path(record))
    if reaped is not None:
        notices.say(
            f"ended {len(reaped.pids)} orphaned {reaped.hook} hook process(es) "
            f"of dead wt-commit pid {reaped.committer_pid}"
            + (f"; left running (not proven to be that hook): {reaped.unproven}"
               if reaped.unproven else "")
        )  # fmt: skip
        events.append(
            wt.state_dir_str, "orphan_hook_ended", agent, hook=reaped.hook, pids=reaped.pids,
            committer_pid=reaped.committer_pid, unproven=reaped.unproven,
        )  # fmt: skip


def _commit_locked(
    wt: Worktree,
    req: CommitRequest,
    raw_message: bytes,
    result: CommitResult,
    rels: list[str],
    ref: str,
    config: Config,
    mode: str,
    deadline: float,
    tmp: str,
) -> None:
    priv = os.path.join(tmp, "index")
    # Another commit's hooks in this worktree (plain `git commit` through the installed shim)
    # may have hidden files (pre-commit's stash-and-restore): read only once they are back.
    hook_lock = RecordedLock(
        os.path.join(wt.gitdir_str, HOOK_LOCK), "hook lock", Holder.me(result.agent), deadline
    )
    # One cat-file reads the tip, the named paths' entries and the directories the tree edit
    # rewrites (core/catfile); it ends once the tree is built.
    with CatFile(wt) as objects:
        tip, tip_tree, journal_config = read_tip(wt, ref, objects)
        # blobs and trees written by this process, as git would, unless the configuration
        # asks for what only git does (core/loose)
        store = (
            LooseObjects.for_config(
                os.path.join(wt.commondir_str, "objects"), config, len(tip_tree)
            )
            if config.succeeded  # what git said in full, else git writes everything
            else None
        )
        with hook_lock:
            settings = Settings.parse(config)
            tree = stage_paths(wt, tip, tip_tree, rels, settings, tmp, objects, store)
    faults.point("staged")
    if tree == tip_tree:
        _finish_unchanged(wt, result, rels, ref, tip, deadline, tmp)
        return

    stage = None
    if _any_hook(wt.hooks_dir_str, COMMIT_HOOKS):
        from pathlib import Path  # only a commit with hooks pays for these

        from worktree_tools.hooks import stage as hookstage

        stage = hookstage.prepare(
            wt, hookstage.HookMode.parse(mode), result.agent, Path(priv), tip, tree, deadline
        )
        if stage.checkout is None:  # hooks in place see the commit in the private index
            private_index(wt, priv, tree)
        result.hook_mode = stage.mode.value
    if stage is not None and not req.no_verify:
        stage.run("pre-commit", [], tree=tree)
        restaged = stage.staged_tree()  # like git: a pre-commit hook may have staged fixes
        if restaged != tree:
            _only_named_paths_restaged(wt, tree, restaged, rels)
        tree = restaged
        if tree == tip_tree:
            _finish_unchanged(wt, result, rels, ref, tip, deadline, tmp)
            return
    journal_gate(wt, tip, tree, rels, journal_config)
    msg_file = os.path.join(tmp, "COMMIT_EDITMSG")
    _write(msg_file, raw_message)
    if stage is not None:
        stage.run("prepare-commit-msg", [msg_file, "message"])
        if not req.no_verify:
            stage.run("commit-msg", [msg_file])
    with open(msg_file, "rb") as f:
        edited = f.read()
    cleaned = message.cleanup(
        edited,
        config.get("commit.cleanup", "default"),
        config.get("core.commentchar", "#"),
    )
    if not cleaned:
        raise InvalidInput("aborting commit due to empty commit message")
    _write(msg_file, cleaned)
    reason = f"wt-commit ({result.agent}): {message.subject(cleaned)}"
    sign = req.sign
    if sign is None and git_bool(config.get("commit.gpgsign", "false")):
        sign = ""  # commit-tree (plumbing) ignores commit.gpgSign; git commit honours it

    # the commit written here where git's rules give its identity (core/ident), else commit-tree
    here = commits.Here(store, config, config.valueless) if store is not None else None
    new = commits.build(wt, tree, [tip], msg_file, sign=sign, here=here)
    faults.point("built")
    for attempt in range(MAX_REPLAYS + 1):
        try:
            result.add_landing(land(wt, result.agent, rels, ref, tip, new, deadline, tmp, reason))
        except Moved as moved:
            result.add_landing(moved.landing)
            if attempt == MAX_REPLAYS:
                raise RefMoved(
                    f"{ref} kept moving while committing; gave up after {attempt} replays",
                    fix="retry the same wt-commit command",
                ) from None
            replayed = replay(wt, rels, ref, tip, moved.current, new)
            result.replays += 1
            if replayed is None:  # the new tip already holds exactly our change
                _finish_unchanged(wt, result, rels, ref, moved.current, deadline, tmp)
                return
            assert moved.current is not None
            if req.revalidate and stage is not None and not req.no_verify:
                from pathlib import Path

                stage = hookstage.prepare(
                    wt, stage.mode, result.agent, Path(priv), moved.current, replayed, deadline
                )
                _revalidate(stage, priv, moved.current, replayed, wt)
            journal_gate(wt, moved.current, replayed, rels)
            tip, new = (
                moved.current,
                commits.build(wt, replayed, [moved.current], msg_file, sign=sign, here=here),
            )
            continue
        break
    result.outcome = Outcome.COMMITTED
    result.commit = new
    result.parent = tip
    faults.point("landed")
    if _any_hook(wt.hooks_dir_str, ("post-commit",)):
        from worktree_tools.hooks import run as hookrun

        post = hookrun.run(wt.hooks_dir, "post-commit", [], cwd=wt.toplevel, env=_post_env())
        if post is not None and post.returncode != 0:
            result.warnings.append(f"post-commit hook exited {post.returncode}")


def _any_hook(hooks_dir: str, names: tuple[str, ...]) -> bool:
    """Whether one of the hooks `names` is installed (hooks.run.find: an executable file), with
    no import of the hook machinery when none is."""
    for name in names:
        path = os.path.join(hooks_dir, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return True
    return False


def _only_named_paths_restaged(wt: Worktree, before: str, after: str, rels: list[str]) -> None:
    """A hook may restage the named paths (a formatter's fixes), nothing else: an unnamed path
    would be committed unseen, skip the journal gate and stay staged as a reversal."""
    res = wt.git(["diff-tree", "-r", "--name-only", "-z", before, after])
    changed = [os.fsdecode(p) for p in res.stdout.split(b"\0") if p]
    named = frozenset(rels)
    stray = [p for p in changed if not covered(p, named)]
    if stray:
        raise HookFailed(
            "the pre-commit hook staged paths you did not name: "
            + ", ".join(stray[:10])
            + "; nothing was committed",
            fix="name those paths too, or fix the hook so that it stages only what it was given",
            hook="pre-commit",
            stray_paths=stray,
        )


def _revalidate(stage: Any, priv: str, tip: str, tree: str, wt: Worktree) -> None:
    """Run pre-commit again against the replayed tree; it must not change anything now."""
    if stage.checkout is None:
        private_index(wt, priv, tree)
    stage.run("pre-commit", [], tree=tree)
    if stage.staged_tree() != tree:
        raise RefMoved(
            "the pre-commit hook changed the replayed commit; nothing was committed",
            fix="run the same wt-commit again",
        )


def _post_env() -> dict[str, str]:
    from worktree_tools.core.gitcmd import clean_env

    return clean_env()


def _fresh_tmp_dir(wt: Worktree) -> str:
    """This commit's scratch directory, `<worktree git dir>/wt-tmp/<pid>`. We hold the worktree
    lock, so anything else in wt-tmp is from a wt-commit that was killed: removed (wt-tmp itself
    stays: one directory made and removed fewer per commit)."""
    top = os.path.join(wt.gitdir_str, TMP_DIR)
    if os.path.islink(top):
        os.unlink(top)  # never ours: nothing it points to is emptied
    try:
        leftovers = os.listdir(top)
    except FileNotFoundError:
        leftovers = []
    except NotADirectoryError:
        os.unlink(top)
        leftovers = []
    for name in leftovers:
        path = os.path.join(top, name)
        if os.path.isdir(path) and not os.path.islink(path):
            remove_tree(path)
        else:
            try:  # noqa: SIM105 (no contextlib on the hot path)
                os.unlink(path)
            except FileNotFoundError:
                pass
    tmp = os.path.join(top, str(os.getpid()))
    os.makedirs(tmp)
    return tmp


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def _finish_unchanged(
    wt: Worktree,
    result: CommitResult,
    rels: list[str],
    ref: str,
    tip: str | None,
    deadline: float,
    tmp: str,
) -> None:
    """Nothing to commit: still make the index show the paths clean (a retry after a crash)."""
    result.outcome = Outcome.UNCHANGED
    result.commit = tip
    if tip is None:
        return
    result.add_landing(land(wt, result.agent, rels, ref, tip, None, deadline, tmp, ""))
