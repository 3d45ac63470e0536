"""wt-commit's core: commit exactly the named paths, never anyone else's work.

The commit is built in a private index (HEAD's tree plus the named paths, staged with `git add
-A` so git's own filters, modes and ignore rules apply), hooks run against that index, and the
commit object is made by `git commit-tree` (identity, signing and encoding as git does them).
Only then are the locks taken for the mutation itself:

    worktree lock (held from the start: commits in one worktree never overlap, hooks included)
      -> index.lock (git's own lock, so no git process writes the index meanwhile)
        -> repository lock (shared by every worktree: held only for the mutation)

The mutation writes the worktree's index first (the named paths set to the new commit, every
other entry kept), then moves the branch by compare-and-swap. A crash between the two leaves the
named paths staged, never a branch whose checkout shows the commit reverted.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worktree_tools import agent as agent_mod
from worktree_tools import events, faults, hookrun, message, paths
from worktree_tools.errors import (
    HookFailed,
    InvalidInput,
    Outcome,
    RefMoved,
    Rejected,
    WtError,
)
from worktree_tools.gitcmd import clean_env, nul_join
from worktree_tools.gitlocks import GitFileLock, wait_until_free
from worktree_tools.locks import Holder, RecordedLock
from worktree_tools.repo import EMPTY_TREE, ZERO_OID, Worktree, discover

TMP_DIR = "wt-tmp"
WORKTREE_LOCK = "wt-worktree.lock"
REPO_LOCK = "repo.lock"
MAX_REPLAYS = 5


@dataclass(frozen=True)
class CommitRequest:
    paths: tuple[str, ...]
    cwd: Path
    messages: tuple[str, ...] = ()
    message_file: str | None = None
    agent: str | None = None
    lock_timeout: float = 30.0
    no_verify: bool = False
    whole_tree: bool = False
    sign: str | None = None  # None: as configured; "": default key; "KEY"; "no": never


@dataclass
class CommitResult:
    outcome: Outcome
    agent: str
    branch: str | None = None
    commit: str | None = None
    parent: str | None = None
    paths: list[str] = field(default_factory=list)
    lock_wait_ms: float = 0.0
    lock_hold_ms: float = 0.0
    worktree_lock_wait_ms: float = 0.0
    duration_ms: float = 0.0
    replays: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "commit": self.commit,
            "parent": self.parent,
            "branch": self.branch,
            "paths": self.paths,
            "agent": self.agent,
            "lock_wait_ms": round(self.lock_wait_ms, 3),
            "lock_hold_ms": round(self.lock_hold_ms, 3),
            "worktree_lock_wait_ms": round(self.worktree_lock_wait_ms, 3),
            "duration_ms": round(self.duration_ms, 3),
            "replays": self.replays,
            "warnings": self.warnings,
            "error": None,
            "fix": None,
        }


class _Moved(Exception):
    """Internal: the branch is not where we built on (carries where it is now)."""

    def __init__(self, current: str | None) -> None:
        self.current = current


def run(req: CommitRequest) -> CommitResult:
    """Commit `req.paths`; raise a WtError subclass for every outcome but committed/unchanged."""
    start = time.monotonic()
    # Read the message first: -F - consumes stdin, and bad input must fail before any lock.
    raw_message = message.compose(req.messages, req.message_file, req.cwd)
    wt = discover(req.cwd)
    name, _source = agent_mod.resolve(req.agent, wt.gitdir)
    result = CommitResult(Outcome.COMMITTED, agent=name)
    try:
        _commit(wt, req, raw_message, result)
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
        "worktree": os.fspath(wt.toplevel),
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
    events.append(wt.state_dir, "commit", result.agent, **fields)


def _commit(wt: Worktree, req: CommitRequest, raw_message: bytes, result: CommitResult) -> None:
    rels = paths.normalize(
        list(req.paths), cwd=req.cwd, toplevel=wt.toplevel, whole_tree=req.whole_tree
    )
    result.paths = rels
    ref = wt.head_ref()
    if ref is None:
        raise InvalidInput(
            "HEAD is detached; wt-commit commits onto a branch",
            fix="git switch -c NEW-BRANCH (or git switch BRANCH)",
        )
    result.branch = ref.removeprefix("refs/heads/")
    busy = wt.operation_in_progress()
    if busy:
        raise InvalidInput(f"{busy[0]} is in progress in this worktree", fix=busy[1])
    config = _config(wt)
    deadline = time.monotonic() + req.lock_timeout
    holder = Holder.me(result.agent)
    with RecordedLock(wt.gitdir / WORKTREE_LOCK, "worktree lock", holder, deadline) as wlock:
        result.worktree_lock_wait_ms = wlock.wait_ms
        tmp = _fresh_tmp_dir(wt)
        try:
            _commit_locked(wt, req, raw_message, result, rels, ref, config, deadline, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _commit_locked(
    wt: Worktree,
    req: CommitRequest,
    raw_message: bytes,
    result: CommitResult,
    rels: list[str],
    ref: str,
    config: dict[str, str],
    deadline: float,
    tmp: Path,
) -> None:
    base = wt.resolve(ref)
    tip, tip_tree = base if base else (None, EMPTY_TREE)
    priv = tmp / "index"
    _stage(wt, priv, tip, rels)
    tree = wt.git(["write-tree"], index=priv).out.strip()
    faults.point("staged")
    if tree == tip_tree:
        _finish_unchanged(wt, result, rels, ref, tip, deadline, tmp)
        return

    hook_env = clean_env({"GIT_INDEX_FILE": os.fspath(priv), "GIT_EDITOR": ":"})
    if not req.no_verify:
        _hook(wt, "pre-commit", [], hook_env)
        # Like git, re-read the index after pre-commit: a hook may have staged fixes.
        tree = wt.git(["write-tree"], index=priv).out.strip()
        if tree == tip_tree:
            _finish_unchanged(wt, result, rels, ref, tip, deadline, tmp)
            return
    msg_file = tmp / "COMMIT_EDITMSG"
    msg_file.write_bytes(raw_message)
    _hook(wt, "prepare-commit-msg", [os.fspath(msg_file), "message"], hook_env)
    if not req.no_verify:
        _hook(wt, "commit-msg", [os.fspath(msg_file)], hook_env)
    cleaned = message.cleanup(
        msg_file.read_bytes(),
        config.get("commit.cleanup", "default"),
        config.get("core.commentchar", "#"),
    )
    if not cleaned:
        raise InvalidInput("aborting commit due to empty commit message")
    msg_file.write_bytes(cleaned)
    reason = f"wt-commit ({result.agent}): {message.subject(cleaned)}"

    sign = req.sign
    if sign is None and _truthy(config.get("commit.gpgsign", "")):
        sign = ""  # commit-tree (plumbing) ignores commit.gpgSign; git commit honours it
    new = _commit_tree(wt, tree, tip, msg_file, sign)
    faults.point("built")
    for attempt in range(MAX_REPLAYS + 1):
        try:
            _land_locked(wt, result, rels, ref, tip, new, deadline, tmp, reason)
        except _Moved as moved:
            if attempt == MAX_REPLAYS:
                raise RefMoved(
                    f"{ref} kept moving while committing; gave up after {attempt} replays",
                    fix="retry the same wt-commit command",
                ) from None
            replayed = _replay(wt, tmp, rels, ref, tip, moved.current, new, msg_file, sign)
            result.replays += 1
            if replayed is None:  # the new tip already holds exactly our change
                _finish_unchanged(wt, result, rels, ref, moved.current, deadline, tmp)
                return
            tip, new = moved.current, replayed
            continue
        break
    result.outcome = Outcome.COMMITTED
    result.commit = new
    result.parent = tip
    faults.point("landed")
    post = hookrun.run(wt.hooks_dir, "post-commit", [], cwd=wt.toplevel, env=clean_env())
    if post is not None and post.returncode != 0:
        result.warnings.append(f"post-commit hook exited {post.returncode}")


def _config(wt: Worktree) -> dict[str, str]:
    res = wt.git(
        ["config", "-z", "--get-regexp", r"^(commit\.cleanup|commit\.gpgsign|core\.commentchar)$"],
        check=False,
    )
    out: dict[str, str] = {}
    for item in res.out.split("\0"):
        if "\n" in item:
            key, value = item.split("\n", 1)
            out[key.lower()] = value
    return out


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("true", "yes", "on", "1")


def _fresh_tmp_dir(wt: Worktree) -> Path:
    # We hold the worktree lock, so anything left here is from a wt-commit that was killed.
    tmp = wt.gitdir / TMP_DIR / str(os.getpid())
    shutil.rmtree(wt.gitdir / TMP_DIR, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def _stage(wt: Worktree, priv: Path, tip: str | None, rels: list[str]) -> None:
    """Private index = HEAD's tree + the named paths as they are on disk."""
    wt.git(["read-tree", tip] if tip else ["read-tree", "--empty"], index=priv)
    on_disk = [r for r in rels if r == "." or paths.exists(wt.toplevel, r)]
    missing = [r for r in rels if r not in on_disk]
    in_head = _tracked(wt, priv, missing)
    if missing:
        in_index = _tracked(wt, wt.index_path, [m for m in missing if m not in in_head])
        unknown = [m for m in missing if m not in in_head and m not in in_index]
        if unknown:
            raise InvalidInput(
                "path neither exists nor is tracked: " + ", ".join(repr(u) for u in unknown)
            )
    to_add = on_disk + [m for m in missing if m in in_head]
    if not to_add:
        return
    res = wt.git(
        ["add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul"],
        index=priv,
        input=nul_join(to_add),
        literal=True,
        check=False,
    )
    if res.returncode != 0:
        raise InvalidInput(f"git refused the paths: {res.err.strip()}")


def _tracked(wt: Worktree, index: Path, rels: list[str]) -> set[str]:
    """Which of `rels` match at least one entry of `index` (a directory matches its files)."""
    if not rels or not index.exists():
        return set()
    # ls-files has no --pathspec-from-file in git 2.39; literal pathspecs after "--" instead.
    res = wt.git(["ls-files", "-z", "--cached", "--", *rels], index=index, literal=True)
    entries = [os.fsdecode(e) for e in res.stdout.split(b"\0") if e]
    found: set[str] = set()
    for rel in rels:
        prefix = rel + "/"
        if any(e == rel or e.startswith(prefix) for e in entries):
            found.add(rel)
    return found


def _hook(wt: Worktree, name: str, args: list[str], env: dict[str, str]) -> None:
    ran = hookrun.run(wt.hooks_dir, name, args, cwd=wt.toplevel, env=env)
    if ran is not None and ran.returncode != 0:
        raise HookFailed(
            f"the {name} hook failed (exit {ran.returncode}); nothing was committed",
            fix="fix what the hook reports and run the same wt-commit again",
            hook=name,
            hook_exit=ran.returncode,
            hook_output=ran.output[-4000:],
        )


def _commit_tree(
    wt: Worktree, tree: str, parent: str | None, msg_file: Path, sign: str | None
) -> str:
    args = ["commit-tree", tree, "-F", os.fspath(msg_file)]
    if parent:
        args += ["-p", parent]
    if sign == "no":
        args.append("--no-gpg-sign")
    elif sign is not None:
        args.append(f"-S{sign}")
    res = wt.git(args, check=False)
    if res.returncode == 0:
        return res.out.strip()
    err = res.err.strip()
    if "tell me who you are" in err or "ident" in err.lower():
        raise InvalidInput(
            f"git has no usable identity: {err}",
            fix='git config user.name "NAME" && git config user.email "EMAIL"',
        )
    if "sign" in err.lower() or "gpg" in err.lower():
        raise Rejected(
            f"signing the commit failed: {err}", fix="check gpg.program and user.signingkey"
        )
    raise Rejected(f"git commit-tree failed: {err}")


def _search_dirs(wt: Worktree) -> list[Path]:
    return [wt.toplevel, wt.gitdir, wt.commondir]


def _stale_reporter(wt: Worktree, agent: str) -> Any:
    def report(info: dict[str, Any]) -> None:
        import sys

        print(f"wt: removed stale lock {info['lock']} ({info['why']})", file=sys.stderr)
        events.append(wt.state_dir, "stale_lock_removed", agent, **info)

    return report


def _land_locked(
    wt: Worktree,
    result: CommitResult,
    rels: list[str],
    ref: str,
    expected: str | None,
    new: str | None,
    deadline: float,
    tmp: Path,
    reason: str,
) -> None:
    """Under index.lock and the repository lock: sync the index, then CAS the branch.
    With `new` None only the index is synced to `expected` (the idempotent-retry path)."""
    report = _stale_reporter(wt, result.agent)
    holder = Holder.me(result.agent)
    with GitFileLock(wt.index_path, _search_dirs(wt), deadline, report):
        with RecordedLock(wt.state_dir / REPO_LOCK, "repository lock", holder, deadline) as rl:
            result.lock_wait_ms += rl.wait_ms
            faults.point("locked")
            _sync_and_swap(wt, rels, ref, expected, new, tmp, reason, deadline, report)
        result.lock_hold_ms += rl.hold_ms


def _sync_and_swap(
    wt: Worktree,
    rels: list[str],
    ref: str,
    expected: str | None,
    new: str | None,
    tmp: Path,
    reason: str,
    deadline: float,
    report: Any,
) -> None:
    target = new or expected
    index = wt.index_path
    had_index = index.exists()
    staged = tmp / "sync-index"
    backup = tmp / "index-backup"
    changed = True
    if new is None:
        now = wt.resolve(ref)
        if (now[0] if now else None) != expected:
            return  # the branch moved under a no-op retry: leave the index to its new owner
    if target is not None:
        if had_index:
            shutil.copyfile(index, staged)
        wt.git(
            ["reset", "-q", target, "--pathspec-from-file=-", "--pathspec-file-nul"],
            index=staged,
            input=nul_join(rels),
            literal=True,
        )
        changed = not had_index or _differs(index, staged)
        if changed:
            if had_index:
                os.link(index, backup)
            os.replace(staged, index)
    faults.point("index-synced")
    if new is None:
        return
    try:
        _cas(wt, ref, new, expected, reason, deadline, report)
    except _Moved:
        if changed:  # we still hold index.lock: nobody wrote the index since we did
            if had_index:
                os.replace(backup, index)
            else:
                index.unlink()
        raise


def _differs(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return True
    return a.read_bytes() != b.read_bytes()


def _cas(
    wt: Worktree,
    ref: str,
    new: str,
    expected: str | None,
    reason: str,
    deadline: float,
    report: Any,
) -> None:
    """Move `ref` from `expected` (None: must not exist) to `new`, or raise _Moved."""
    while True:
        res = wt.git(["update-ref", "-m", reason, ref, new, expected or ZERO_OID], check=False)
        if res.returncode == 0:
            return
        now = wt.resolve(ref)
        current = now[0] if now else None
        if current != expected:
            raise _Moved(current)
        lock = wt.commondir / (ref + ".lock")
        if lock.exists():
            wait_until_free(lock, _search_dirs(wt), deadline, report)
            continue
        raise Rejected(f"git refused to move {ref}: {res.err.strip()}")


def _replay(
    wt: Worktree,
    tmp: Path,
    rels: list[str],
    ref: str,
    base: str | None,
    current: str | None,
    ours: str,
    msg_file: Path,
    sign: str | None,
) -> str | None:
    """Rebuild our commit on `current` if none of our paths changed since `base`.
    Returns the new commit, or None when `current` already has exactly our content."""
    if current is None or base is None:
        raise RefMoved(
            f"{ref} was created or deleted while committing",
            fix="inspect `git log` and run the same wt-commit again",
        )
    changed = wt.git(
        ["diff-tree", "-r", "--name-only", "-z", base, current, "--", *rels], literal=True
    )
    if changed.stdout.strip(b"\0"):
        names = [os.fsdecode(n) for n in changed.stdout.split(b"\0") if n]
        raise RefMoved(
            f"{ref} moved to {current[:12]} and that commit changed the same paths: "
            + ", ".join(names[:10]),
            fix=f"integrate {current[:12]} (git log {base[:12]}..{current[:12]} -- PATHS), "
            "then run wt-commit again",
            current=current,
        )
    priv = tmp / "replay-index"
    wt.git(["read-tree", current], index=priv)
    wt.git(
        ["reset", "-q", ours, "--pathspec-from-file=-", "--pathspec-file-nul"],
        index=priv,
        input=nul_join(rels),
        literal=True,
    )
    tree = wt.git(["write-tree"], index=priv).out.strip()
    priv.unlink()
    current_tree = wt.resolve(ref)
    if current_tree and current_tree[1] == tree:
        return None
    return _commit_tree(wt, tree, current, msg_file, sign)


def _finish_unchanged(
    wt: Worktree,
    result: CommitResult,
    rels: list[str],
    ref: str,
    tip: str | None,
    deadline: float,
    tmp: Path,
) -> None:
    """Nothing to commit: still make the index show the paths clean (a retry after a crash)."""
    result.outcome = Outcome.UNCHANGED
    result.commit = tip
    if tip is None:
        return
    _land_locked(wt, result, rels, ref, tip, None, deadline, tmp, "")  # never moves a ref
