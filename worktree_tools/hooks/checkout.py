"""The isolated hook checkout: a real linked worktree where commit hooks run.

Hook managers rewrite the working tree they run in (pre-commit stashes "unstaged" changes, runs
`git checkout -- .`, then re-applies its patch). In a worktree shared by several agents that
clobbers other agents' live files. So, by default, hooks run in a checkout of their own: one per
live worktree, at `<common git dir>/wt/hook-worktrees/<id>`, locked against `git worktree prune`,
reused across commits (commits of one worktree are serialized, so it has one user at a time) and
synced before each commit to exactly the tree being committed, with HEAD at its parent. The
pre-commit framework works there unchanged and finds nothing unstaged to stash.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from worktree_tools.core.errors import WtError
from worktree_tools.core.locks import Holder, RecordedLock
from worktree_tools.core.repo import Worktree, discover, empty_tree

HOOK_WORKTREES = "hook-worktrees"
UNBORN_REF = "refs/wt/hook-unborn"


def checkout_path(wt: Worktree) -> Path:
    # Distinct namespaces: a linked worktree may well be *named* "main".
    key = "main" if wt.is_main else f"linked-{wt.gitdir.name}"
    return wt.state_dir / HOOK_WORKTREES / key


def ensure(wt: Worktree, tip: str, agent: str, deadline: float) -> Worktree:
    """The hook checkout of `wt`, created on first use (caller holds wt's worktree lock)."""
    purpose = f"hook checkout for {wt.toplevel}"
    return ensure_at(wt, checkout_path(wt), tip, agent, deadline, purpose)


def ensure_at(
    wt: Worktree, path: Path, tip: str, agent: str, deadline: float, purpose: str
) -> Worktree:
    """An isolated checkout at `path` (one user at a time: the caller's lock says so), created
    on first use as a locked, detached linked worktree of `wt`'s repository."""
    if (path / ".git").is_file():
        try:
            return discover(path, inherit_env=False)
        except WtError:
            pass  # damaged: recreated below
    path.parent.mkdir(parents=True, exist_ok=True)
    from worktree_tools.core.locks import ADMIN_LOCK

    # Concurrent `git worktree add`s read each other's half-made entries: one at a time, under
    # the lock `git wt alloc` takes too. -f -f: re-register over a checkout whose directory was
    # deleted while it was locked.
    admin = RecordedLock(
        wt.state_dir / ADMIN_LOCK, "worktree-admin lock", Holder.me(agent), deadline
    )
    from worktree_tools.guard import permit

    with admin, permit.granted(wt):  # git worktree add sets the new HEAD: our own ref move
        wt.git(
            [
                "worktree", "add", "-f", "-f", "--detach", "--no-checkout", "--lock",
                "--reason", f"worktree-tools {purpose}",
                os.fspath(path), tip,
            ]
        )  # fmt: skip
    return discover(path, inherit_env=False)


def sync(hw: Worktree, tip: str | None, tree: str) -> None:
    """Index and files = `tree`; HEAD = `tip` (detached), so `git diff --cached` is the commit."""
    hw.git(["read-tree", "--reset", "-u", tree])
    hw.git(["clean", "-ffdq"])  # leftovers of earlier hook runs (ignored caches are kept)
    if tip is None:
        hw.git(["symbolic-ref", "HEAD", UNBORN_REF])
    else:
        from worktree_tools.guard import permit

        with permit.granted(hw):  # our own checkout's HEAD: the guard lets it pass
            hw.git(["update-ref", "--no-deref", "HEAD", tip])


def index_tree(hw: Worktree) -> str:
    """The tree the hooks left staged (a hook may stage its fixes, as under git commit)."""
    return hw.git(["write-tree"]).out.strip()


@dataclass(frozen=True)
class CarryBack:
    written: list[str]
    not_written: list[str]


def carry_back_fixes(wt: Worktree, hw: Worktree, tip: str | None, tree: str) -> CarryBack:
    """Copy files that hooks auto-fixed in the hook checkout back to the live worktree: only
    paths this commit changes, and only where the live file still equals what was committed."""
    res = hw.git(["diff", "--name-only", "-z"])
    fixed = [os.fsdecode(p) for p in res.stdout.split(b"\0") if p]
    if not fixed:
        return CarryBack([], [])
    res = wt.git(["diff-tree", "-r", "--name-only", "-z", tip or empty_tree(wt), tree])
    committed = {os.fsdecode(p) for p in res.stdout.split(b"\0") if p}
    candidates = [p for p in fixed if p in committed]
    skipped = [p for p in fixed if p not in committed]
    if not candidates:
        return CarryBack([], skipped)
    entries = _index_blobs(hw, candidates)
    regular = [p for p in candidates if _is_regular(os.fspath(wt.toplevel / p))]
    live_oids = dict(zip(regular, _hash_files(wt, regular), strict=True))
    written: list[str] = []
    for path in candidates:
        if path in live_oids and live_oids[path] == entries.get(path):
            _replace_file(hw.toplevel / path, wt.toplevel / path)
            written.append(path)
        else:
            skipped.append(path)
    return CarryBack(written, skipped)


def _index_blobs(hw: Worktree, paths: list[str]) -> dict[str, str]:
    res = hw.git(["ls-files", "-s", "-z", "--", *paths], literal=True)
    out: dict[str, str] = {}
    for item in res.stdout.split(b"\0"):
        if item:
            meta, path = item.split(b"\t", 1)
            out[os.fsdecode(path)] = meta.split()[1].decode()
    return out


def _hash_files(wt: Worktree, paths: list[str]) -> list[str]:
    """Blob ids of the live files as git would store them (filters by path applied)."""
    if not paths:
        return []
    return wt.git(["hash-object", "--", *paths]).out.split()


def _is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _replace_file(source: Path, target: Path) -> None:
    data = source.read_bytes()
    mode = stat.S_IMODE(os.lstat(source).st_mode)
    tmp = target.with_name(f".{target.name}.wt-fix-{os.getpid()}")
    tmp.write_bytes(data)
    os.chmod(tmp, mode)
    os.replace(tmp, target)
