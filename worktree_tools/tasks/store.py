"""Where the board lives, read as one snapshot and changed by one compare-and-swap.

The board is a branch (default `refs/heads/wt/tasks`) whose tree holds `tasks/ID.md`, plus one
ref per claim, `refs/wt/claims/ID`, pointing at a claim blob. A change writes objects only
(blobs, trees, a commit whose parent is the tip it was decided on: plumbing, no index, no
worktree) and then moves the board and the claim refs it touches together, each from the value
it was read at: core.refs.transaction (one `git update-ref --stdin`: every ref or none) in this
repository, or `git push --atomic --force-with-lease` for each ref on a remote (the server's ref
locks are the only arbiter, so two machines never both win).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from typing import Protocol

from worktree_tools.core import commits, refs
from worktree_tools.core.errors import InvalidInput, RefMoved, Rejected
from worktree_tools.core.locks import TASKS_LOCK
from worktree_tools.core.refs import RefUpdate
from worktree_tools.core.repo import Worktree
from worktree_tools.tasks.claims import CLAIM_PREFIX
from worktree_tools.tasks.model import TASKS_DIR

DEFAULT_BRANCH = "wt/tasks"
TURN_LOCK = TASKS_LOCK  # agents of this machine take turns (core.locks.LOCK_ORDER)
CACHE_PREFIX = "refs/wt/task-cache/"  # the last board tip seen on each remote (fetch haves)
READ_ATTEMPTS = 5


@dataclass(frozen=True)
class Entry:
    mode: str
    type: str
    oid: str
    name: str


@dataclass(frozen=True)
class Snapshot:
    """The board as read at one moment: what every decision is made on and swapped against."""

    tip: str | None
    root: tuple[Entry, ...]  # the tip's top-level entries other than tasks/
    files: dict[str, Entry]  # name under tasks/ -> entry
    claims: dict[str, str]  # task id -> claim blob oid
    blobs: dict[str, bytes]  # oid -> content, for task files and claim records


class BoardStore(Protocol):
    where: str
    ref: str
    wt: Worktree

    def read(self) -> Snapshot:
        """The board and every claim record now."""

    def swap(self, updates: list[RefUpdate], deadline: float) -> bool:
        """Move every ref from its `old` to its `new`, or none; False when one had moved."""

    def turn(self, deadline: float) -> contextlib.AbstractContextManager[object]:
        """Held around one read-decide-swap round: agents of one machine take turns instead
        of all losing the same swap. Correctness never rests on it (the swap decides)."""


def board_ref(branch: str) -> str:
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


def settings(wt: Worktree) -> dict[str, str]:
    """Every `wt.task.*` setting (keys lower-cased, as git reports them), in one git call."""
    res = wt.git(["config", "-z", "--get-regexp", r"^wt\.task\."], check=False)
    out: dict[str, str] = {}
    for item in res.stdout.split(b"\0"):
        key, _, value = item.decode("utf-8", "replace").partition("\n")
        if key and value.strip():
            out[key.lower()] = value.strip()
    return out


def check_branch(wt: Worktree, branch: str) -> str:
    ref = board_ref(branch)
    if branch == DEFAULT_BRANCH:
        return ref
    res = wt.git(["check-ref-format", ref], check=False)
    if res.returncode != 0 or not ref.startswith("refs/heads/"):
        raise InvalidInput(
            f"invalid task board branch {branch!r} (wt.task.branch)",
            fix="git config wt.task.branch wt/tasks",
        )
    return ref


# ---- objects (shared by both stores) -----------------------------------------------------


def load(wt: Worktree, tip: str | None, claims: dict[str, str]) -> Snapshot:
    """Read the tree of `tip` and the blobs of its task files and of `claims`."""
    root: list[Entry] = []
    files: dict[str, Entry] = {}
    if tip is not None:
        # One listing for both levels: the top (kept as it is) and the entries of tasks/.
        out = wt.git(["ls-tree", "-r", "-t", "-z", "--full-tree", tip]).stdout
        prefix = TASKS_DIR + "/"
        for item in out.split(b"\0"):
            if not item:
                continue
            meta, _, raw = item.partition(b"\t")
            mode, kind, oid = meta.decode().split(" ")
            path = os.fsdecode(raw)
            if "/" not in path:
                if not (path == TASKS_DIR and kind == "tree"):
                    root.append(Entry(mode, kind, oid, path))
            elif path.startswith(prefix) and "/" not in path[len(prefix) :]:
                name = path[len(prefix) :]
                files[name] = Entry(mode, kind, oid, name)
    wanted = [e.oid for e in files.values() if e.type == "blob"] + list(claims.values())
    return Snapshot(tip, tuple(root), files, dict(claims), cat_blobs(wt, wanted))


# Blobs are named by their content: what was read once is valid forever. An agent that asks
# for the board again (a long-running process, or a retry) reads only what changed.
_BLOB_CACHE: dict[str, bytes] = {}
_CACHE_LIMIT = 50_000


def cat_blobs(wt: Worktree, oids: list[str]) -> dict[str, bytes]:
    """The content of each blob, by one `git cat-file --batch`; objects of another type or
    missing are left out (the reader reports them)."""
    unique = list(dict.fromkeys(oids))
    blobs = {o: _BLOB_CACHE[o] for o in unique if o in _BLOB_CACHE}
    unique = [o for o in unique if o not in blobs]
    if not unique:
        return blobs
    out = wt.git(["cat-file", "--batch"], input="".join(f"{o}\n" for o in unique).encode()).stdout
    if len(_BLOB_CACHE) > _CACHE_LIMIT:
        _BLOB_CACHE.clear()
    pos = 0
    for oid in unique:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split(" ")
        pos = end + 1
        if len(header) != 3:
            continue  # "<oid> missing"
        size = int(header[2])
        if header[1] == "blob":
            blobs[oid] = _BLOB_CACHE[oid] = out[pos : pos + size]
        pos += size + 1
    return blobs


def write_blobs(wt: Worktree, contents: list[bytes]) -> list[str]:
    """Store each content as a blob (one git process for all of them); their ids, in order."""
    if len(contents) == 1:
        return [wt.git(["hash-object", "-w", "--stdin"], input=contents[0]).out.strip()]
    wt.state_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="task-blobs-", dir=wt.state_dir) as tmp:
        paths = []
        for i, data in enumerate(contents):
            path = os.path.join(tmp, str(i))
            with open(path, "wb") as fh:
                fh.write(data)
            paths.append(path)
        res = wt.git(["hash-object", "-w", "--no-filters", "--stdin-paths"],
                     input="".join(p + "\n" for p in paths).encode())  # fmt: skip
    oids = res.out.split()
    if len(oids) != len(contents):
        raise Rejected(f"git hash-object stored {len(oids)} of {len(contents)} objects")
    return oids


def write_board(
    wt: Worktree,
    snap: Snapshot,
    files: dict[str, str | None],
    message: str,
    agent: str,
) -> str:
    """A commit on top of `snap.tip` whose tasks/ has `files` (name -> blob oid, None: removed)
    changed; the board ref is not moved."""
    entries = dict(snap.files)
    for name, oid in files.items():
        if oid is None:
            entries.pop(name, None)
        else:
            entries[name] = Entry("100644", "blob", oid, name)
    tasks_tree = _mktree(wt, list(entries.values()))
    root = [*snap.root, Entry("040000", "tree", tasks_tree, TASKS_DIR)]
    tree = _mktree(wt, root)
    identity = {
        "GIT_AUTHOR_NAME": agent,
        "GIT_AUTHOR_EMAIL": f"{agent}@wt-task",
        "GIT_COMMITTER_NAME": "worktree-tools tasks",
        "GIT_COMMITTER_EMAIL": "wt-task@localhost",
    }
    return commits.build(wt, tree, [snap.tip], message.encode() + b"\n", env=identity)


def _mktree(wt: Worktree, entries: list[Entry]) -> str:
    data = b"".join(
        f"{e.mode} {e.type} {e.oid}\t".encode() + os.fsencode(e.name) + b"\0" for e in entries
    )
    return wt.git(["mktree", "-z", "--missing"], input=data).out.strip()


# ---- this repository ---------------------------------------------------------------------


class LocalStore:
    """The board of this repository, shared by all its worktrees (agents on one machine)."""

    def __init__(self, wt: Worktree, ref: str, agent: str, *, turns: bool = True) -> None:
        self.wt = wt
        self.ref = ref
        self.agent = agent
        self.where = "local"
        self.turns = turns

    def read(self) -> Snapshot:
        res = self.wt.git(
            ["for-each-ref", "--format=%(objectname) %(refname)", self.ref, CLAIM_PREFIX]
        )
        tip: str | None = None
        claims: dict[str, str] = {}
        for line in res.out.splitlines():
            oid, _, ref = line.partition(" ")
            if ref == self.ref:
                tip = oid
            elif ref.startswith(CLAIM_PREFIX):
                claims[ref.removeprefix(CLAIM_PREFIX)] = oid
        return load(self.wt, tip, claims)

    def turn(self, deadline: float) -> contextlib.AbstractContextManager[object]:
        from worktree_tools.core.locks import Holder, RecordedLock

        if not self.turns:
            return contextlib.nullcontext()
        return RecordedLock(
            self.wt.state_dir / TURN_LOCK, "task board lock", Holder.me(self.agent), deadline
        )

    def swap(self, updates: list[RefUpdate], deadline: float) -> bool:
        self._refuse_if_checked_out()
        try:
            refs.transaction(
                self.wt, updates, refs.reflog("wt task", self.agent), deadline=deadline
            )
        except RefMoved:
            return False  # lost the race: decide again on what is there now
        return True

    def _refuse_if_checked_out(self) -> None:
        """Moving a branch under its own checkout makes that worktree's next commit undo the
        change (R10): the board is changed only while no worktree has it checked out."""
        heads = [self.wt.commondir / "HEAD"]
        with contextlib.suppress(OSError):
            heads += [d / "HEAD" for d in (self.wt.commondir / "worktrees").iterdir()]
        for head in heads:
            try:
                text = head.read_text(encoding="utf-8").strip()
            except OSError:
                continue
            if text == f"ref: {self.ref}":
                where = head.parent
                raise Rejected(
                    f"the task board branch {self.ref} is checked out ({where}); moving it "
                    "would make that worktree undo the change; nothing was changed",
                    fix="switch that worktree to another branch (git -C <worktree> switch -), "
                    "then retry; edit tasks with `git wt task edit ID` instead",
                )


def open_store(
    wt: Worktree, agent: str, *, remote: str | None = None, branch: str | None = None
) -> BoardStore:
    """The board of this repository, or of `remote` (option, else `wt.task.remote`)."""
    conf = settings(wt)
    ref = check_branch(wt, branch or conf.get("wt.task.branch") or DEFAULT_BRANCH)
    remote = remote or conf.get("wt.task.remote")
    if remote is None:
        turns = conf.get("wt.task.turns", "true").lower() not in ("false", "no", "off", "0")
        return LocalStore(wt, ref, agent, turns=turns)
    from worktree_tools.tasks.remote import RemoteBoard

    return RemoteBoard(wt, ref, remote)
