"""Rescue refs: a worktree's whole state saved as commits before anything removes it.

A rescue is a commit W (the working tree by content: every file's raw bytes, tracked, untracked
and ignored alike, whatever the index's flags, stat cache or filters say; see snapshot.py)
whose first parent is the worktree's HEAD (so unmerged commits stay reachable) and whose
second parent I holds the index (what was staged), like `git stash -u` but without touching
the worktree. It lives at `refs/wt/rescue/<agent>/<UTC stamp>`; its
message carries the metadata as JSON. `restore` rebuilds the worktree byte for byte: files as W,
index as I, HEAD as W^1, writing W's blobs as stored (no filter runs). Regenerable ignored
paths (`wt.rescueDiscard`: node_modules/, .venv/, build/...) are not saved.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from worktree_tools.core import commits, refs, statefiles, times
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.gitcmd import GitResult, git
from worktree_tools.core.repo import Worktree
from worktree_tools.worktrees import gitinfo, location, snapshot
from worktree_tools.worktrees.common import Repo

PREFIX = "refs/wt/rescue/"
_IDENTITY = {
    "GIT_AUTHOR_NAME": "git wt rescue",
    "GIT_AUTHOR_EMAIL": "git-wt@localhost",
    "GIT_COMMITTER_NAME": "git wt rescue",
    "GIT_COMMITTER_EMAIL": "git-wt@localhost",
}


@dataclass(frozen=True)
class Capture:
    """The trees of a worktree's HEAD, index and working tree (raw bytes) at one moment."""

    head: str
    head_tree: str
    index_tree: str
    work_tree: str
    conflicted_index: bool
    changed: bool = False  # a file's bytes are not what a checkout of HEAD writes
    nested: tuple[str, ...] = ()  # nested repositories: a rescue cannot hold their files
    discarded: tuple[str, ...] = ()  # ignored and regenerable: not saved

    @property
    def dirty(self) -> bool:
        return self.changed or self.index_tree != self.head_tree

    def same_work(self, other: Capture | None) -> bool:
        """Whether `other` holds exactly the work this one saved (what was left out as
        regenerable, say a build's output or the tools' own `.wt/`, may differ)."""
        return other is not None and (
            self.head,
            self.index_tree,
            self.work_tree,
            self.conflicted_index,
            self.nested,
        ) == (other.head, other.index_tree, other.work_tree, other.conflicted_index, other.nested)


@dataclass(frozen=True)
class Rescue:
    id: str
    ref: str
    commit: str
    head: str
    index_commit: str
    meta: dict[str, Any]

    @property
    def worktree(self) -> str | None:
        """Where the worktree was (0.1.0 saved it as `path`)."""
        where = self.meta.get("worktree", self.meta.get("path"))
        return where if isinstance(where, str) else None

    def to_json(self) -> dict[str, Any]:
        meta = {k: v for k, v in self.meta.items() if k not in ("id", "ref", "path")}
        created = meta.get("created")
        return {
            "id": self.id,
            "ref": self.ref,
            "commit": self.commit,
            "head": self.head,
            "index_commit": self.index_commit,
            **meta,
            "worktree": self.worktree,
            "created": times.normal(created) if isinstance(created, str) else None,
        }


def _run(
    tree: Worktree,
    args: list[str],
    *,
    check: bool = True,
    env: dict[str, str] | None = None,
    input: bytes | None = None,
) -> GitResult:
    return git(args, cwd=tree.toplevel, env=tree.env(**(env or {})), check=check, input=input)


def capture(repo: Repo, tree: Worktree, *, write: bool = True) -> Capture:
    """Snapshot `tree` by content, without writing its index or taking its index.lock.
    `write=False` computes the same ids without storing the files (a dry run)."""
    head = gitinfo.rev(tree, "HEAD")
    if head is None:
        raise InvalidInput(f"worktree {tree.toplevel} has no HEAD commit")
    head_tree = _run(tree, ["rev-parse", f"{head}^{{tree}}"]).out.strip()
    scratch = Path(tempfile.mkdtemp(prefix="rescue-", dir=_tmp_root(repo)))
    try:
        idx = scratch / "index"
        if tree.index_path.exists():
            shutil.copyfile(tree.index_path, idx)
        else:
            _run(tree, ["read-tree", head], env={"GIT_INDEX_FILE": os.fspath(idx)})
        res = _run(tree, ["write-tree"], check=False, env={"GIT_INDEX_FILE": os.fspath(idx)})
        conflicted = res.returncode != 0
        index_tree = head_tree if conflicted else res.out.strip()
        listing = snapshot.list_paths(tree, idx)
        hasher = snapshot.Hasher(repo.wt, scratch if write else None)
        try:
            entries = snapshot.read_entries(tree.toplevel, listing, hasher)
            hasher.flush()
        finally:
            hasher.close()
        work_tree = snapshot.tree_of(repo.wt, scratch, entries, write=write)
        nested = (*listing.nested, *snapshot.dirty_gitlinks(tree.toplevel, listing))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    changed = work_tree != head_tree and not _checkout_reproduces(tree, head_tree, work_tree)
    return Capture(
        head, head_tree, index_tree, work_tree, conflicted, changed, nested, listing.discarded
    )


def _checkout_reproduces(tree: Worktree, head_tree: str, work_tree: str) -> bool:
    """Whether every difference between HEAD and the raw snapshot is only what checkout's
    filters make of HEAD's blobs (CRLF under core.autocrlf, an expanded $Id$...)."""
    res = _run(tree, ["diff-tree", "-r", "-z", "--no-renames", head_tree, work_tree])
    items = [i for i in res.out.split("\0") if i]
    pairs: list[tuple[str, str, str]] = []
    for meta, path in zip(items[::2], items[1::2], strict=False):
        old_mode, new_mode, old, new, status = meta.lstrip(":").split(" ")
        if status != "M" or old_mode != new_mode or old_mode not in ("100644", "100755"):
            return False
        if "\n" in path:
            return False
        pairs.append((old, new, path))
    if not pairs:
        return True
    # What a checkout of HEAD writes for those paths, written under a scratch directory by
    # git itself (its filters, autocrlf and attributes), then compared byte for byte.
    scratch = Path(tempfile.mkdtemp(prefix="checkout-", dir=tree.state_dir / statefiles.STATE_TMP))
    try:
        idx = scratch / "index"
        env = {"GIT_INDEX_FILE": os.fspath(idx)}
        _run(tree, ["read-tree", head_tree], env=env)
        paths = b"".join(os.fsencode(path) + b"\0" for _old, _new, path in pairs)
        out = _run(
            tree,
            ["checkout-index", f"--prefix={scratch}/co/", "-z", "--stdin"],
            env=env,
            input=paths,
            check=False,
        )
        if out.returncode != 0:
            return False
        hasher = snapshot.Hasher(tree)
        for _old, want, path in pairs:
            try:
                data = (scratch / "co" / path).read_bytes()
            except OSError:
                return False
            if hasher.blob(data) != want:
                return False
        return True
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def nested_repositories(repo: Repo, cap: Capture) -> list[str]:
    """Paths the working-tree snapshot holds as gitlinks (nested repositories, submodules):
    a rescue keeps only their commit id, not their files, so removing them would lose work."""
    res = repo.wt.git(["diff-tree", "-r", "-z", "--raw", cap.head_tree, cap.work_tree])
    items = res.out.split("\0")
    found = list(cap.nested)
    for meta, path in zip(items[::2], items[1::2], strict=False):
        if meta.startswith(":") and meta.split()[1] == "160000" and path not in found:
            found.append(path)
    return found


def _tmp_root(repo: Repo) -> Path:
    root = repo.state_dir / statefiles.STATE_TMP
    root.mkdir(parents=True, exist_ok=True)
    return root


def save(repo: Repo, cap: Capture, agent: str, meta: dict[str, Any]) -> Rescue:
    """Write the rescue commits and create the rescue ref (never overwriting one)."""
    # Objects are shared: commit from the repository, so a worktree whose directory is gone
    # (removed by hand) can still have its commits saved.
    base = repo.wt
    index_commit = commits.build(
        base, cap.index_tree, [cap.head], b"index\n", sign=commits.NO_SIGN, env=_IDENTITY
    )
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    rid = f"{agent}/{stamp}"
    full = {
        "id": rid,
        "agent": agent,
        "created": times.now_iso(),
        "head": cap.head,
        "dirty": cap.dirty,
        "conflicted_index": cap.conflicted_index,
        **meta,
    }
    message = f"wt rescue: {agent}'s work ({meta.get('reason', 'saved')})\n\n{json.dumps(full)}\n"
    # Never signed: a rescue must not depend on a signing agent being reachable.
    commit = commits.build(
        base,
        cap.work_tree,
        [cap.head, index_commit],
        message.encode(),
        sign=commits.NO_SIGN,
        env=_IDENTITY,
    )
    ref = PREFIX + rid
    refs.move(repo.wt, ref, commit, None, refs.reflog("git wt rescue", agent, rid))
    return Rescue(rid, ref, commit, cap.head, index_commit, full)


def list_all(repo: Repo) -> list[Rescue]:
    fmt = "%(refname)%00%(objectname)%00%(parent)%00%(contents:body)%1e"
    out = repo.wt.git(["for-each-ref", f"--format={fmt}", PREFIX]).out
    result = []
    for chunk in out.split("\x1e"):
        chunk = chunk.lstrip("\n")
        if not chunk:
            continue
        ref, oid, parents, body = [*chunk.split("\0"), "", "", ""][:4]
        result.append(_parse(ref, oid, parents.split(), body))
    return result


def _parse(ref: str, oid: str, parents: list[str], body: str) -> Rescue:
    rid = ref[len(PREFIX) :]
    try:
        meta = json.loads(body.strip())
        if not isinstance(meta, dict):
            raise ValueError
    except ValueError:
        meta = {"agent": rid.split("/", 1)[0], "unreadable_metadata": True}
    head = parents[0] if parents else ""
    index_commit = parents[1] if len(parents) > 1 else head
    return Rescue(rid, ref, oid, head, index_commit, meta)


def find(repo: Repo, rid: str) -> Rescue:
    rid = rid.removeprefix(PREFIX)
    for item in list_all(repo):
        if item.id == rid:
            return item
    raise InvalidInput(
        f"no rescue {rid!r}", fix="git wt rescue list shows the rescues and their ids"
    )


def restore(repo: Repo, rid: str, to: Path | None) -> tuple[Rescue, Path, str | None]:
    """Recreate the rescued worktree at `to` (default: where it was). Returns the rescue, the
    new worktree's path and the branch it is on (None: detached at the rescued HEAD)."""
    item = find(repo, rid)
    if len(item.commit) not in (40, 64) or not item.head:
        raise InvalidInput(f"rescue {rid!r} is not a rescue commit")
    dest = to or Path(item.worktree or "")
    if not str(dest):
        raise InvalidInput("the rescue does not record a path", fix="pass --to DIR")
    if os.path.lexists(dest) and not (dest.is_dir() and not any(dest.iterdir())):
        raise InvalidInput(f"{dest} already exists; nothing was changed", fix="pass --to NEW-DIR")
    checked_entries(repo.wt, f"{item.commit}^{{tree}}")  # before anything is created
    branch = item.meta.get("branch")
    attach = False
    with repo.admin_lock():
        if isinstance(branch, str) and gitinfo.rev(repo.wt, f"refs/heads/{branch}") == item.head:
            attach = not any(w.branch == branch for w in gitinfo.worktree_list(repo.wt))
        args = ["worktree", "add", "--no-checkout", "--quiet"]
        if attach:
            args += ["--", os.fspath(dest), str(branch)]
        else:
            args += ["--detach", "--", os.fspath(dest), item.head]
        res = repo.wt.git(
            args,
            check=False,
        )
    if res.returncode != 0:
        raise InvalidInput(f"git worktree add refused: {res.err.strip()}")
    admin = gitinfo.admin_dir_of(dest)
    if admin is None:
        raise InvalidInput(f"git did not create a worktree at {dest}")
    tree = Worktree(dest, admin, repo.commondir, repo.wt.hooks_dir)
    location.remember(admin, dest)
    # The index as I; then W's blobs written byte for byte (a checkout would run the
    # worktree's filters, autocrlf and ident over them and write other bytes).
    _run(tree, ["read-tree", f"{item.index_commit}^{{tree}}"])
    write_tree_files(tree, dest, f"{item.commit}^{{tree}}")
    _run(tree, ["update-index", "-q", "--refresh"], check=False)
    return item, dest, branch if attach else None


def checked_entries(tree: Worktree, treeish: str) -> dict[str, snapshot.Entry]:
    """The entries of a rescue's tree, refused whole if one could write outside a worktree
    (a rescue ref is state like any other: it may have been forged)."""
    entries = snapshot.tree_entries(tree, treeish)
    for entry in entries.values():
        parts = entry.path.split("/")
        if any(p in ("", ".", "..") or p.lower() == ".git" for p in parts):
            raise InvalidInput(
                f"the rescue holds a path no worktree can have: {entry.path!r}; nothing written",
                fix=f"inspect it with: git ls-tree -r {treeish}",
            )
    return entries


def write_tree_files(tree: Worktree, dest: Path, treeish: str) -> None:
    """Write every blob of `treeish` under `dest` exactly as stored (`git cat-file blob`
    semantics: no filter, no end-of-line conversion); links as links, modes as recorded."""
    entries = checked_entries(tree, treeish)
    files = [e for e in entries.values() if e.mode != snapshot.GITLINK]
    batch = "".join(f"{e.oid}\n" for e in files).encode()
    data = _run(tree, ["cat-file", "--batch"], input=batch).stdout
    pos = 0
    for entry in files:
        end = data.index(b"\n", pos)
        size = int(data[pos:end].split(b" ")[2])
        blob = data[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
        target = dest / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.mode == "120000":
            os.symlink(os.fsdecode(blob), target)
            continue
        fd = os.open(
            target,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
            0o777 if entry.mode == "100755" else 0o666,
        )
        try:
            view = memoryview(blob)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
    for entry in entries.values():
        if entry.mode == snapshot.GITLINK:
            (dest / entry.path).mkdir(parents=True, exist_ok=True)
