"""The board's git objects, read and written with as few git processes as a claim allows.

A claim is latency-bound: it is mostly git process start-ups. So:
- reading: the refs and every claim record come from one `git for-each-ref` (`%(raw)` gives the
  content of each claim blob); the tip's tree, `tasks/` and the task files from one
  `git cat-file --batch`, asked twice (the two trees, then the blobs they name);
- writing: the blobs' ids are computed here (`blob <size>NUL<content>` hashed with the
  repository's algorithm, SHA-1 or SHA-256) while `git hash-object -w` stores them; both trees
  come from one `git mktree --batch`; the commit from core.commits. hash-object's ids are checked
  against ours before anything refers to them being published (the swap comes after).
No pygit2 here: it cannot open SHA-256 repositories.
"""

from __future__ import annotations

import os

from worktree_tools.core import commits
from worktree_tools.core.catfile import tree_items
from worktree_tools.core.errors import GitError, Rejected
from worktree_tools.core.gitcmd import popen
from worktree_tools.core.loose import object_id
from worktree_tools.core.spawn import PIPE
from worktree_tools.tasks.model import TASKS_DIR
from worktree_tools.tasks.values import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_tools.core.repo import Worktree
    from worktree_tools.core.spawn import Process


_TYPES = {"40000": "tree", "160000": "commit"}  # any other mode names a blob


class Entry(Value):
    __slots__ = ("mode", "name", "oid", "type")

    def __init__(self, mode: str, type: str, oid: str, name: str) -> None:
        self.mode = mode
        self.type = type
        self.oid = oid
        self.name = name


class Listing(Value):
    """What one `for-each-ref` says about a board: its tip, its tree, its claim records."""

    __slots__ = ("blobs", "claims", "tip")

    def __init__(
        self,
        tip: str | None,
        claims: dict[str, str],  # task id -> claim ref's object id
        blobs: dict[str, bytes],  # oid -> content, for the claim refs that name blobs
    ) -> None:
        self.tip = tip
        self.claims = claims
        self.blobs = blobs


def list_refs(wt: Worktree, board_ref: str, claim_prefix: str) -> Listing:
    """The board ref and every claim ref, with the content of what they name, in one git call."""
    fmt = "%(objectname) %(objecttype) %(raw:size) %(refname)%0a%(raw)"
    res = wt.git(["for-each-ref", f"--format={fmt}", board_ref, claim_prefix], check=False)
    if res.returncode != 0:
        # A ref names a missing object (%(raw) cannot read it): list the names only; the
        # reader then reports that record as unreadable instead of failing the command.
        return _names_only(wt, board_ref, claim_prefix)
    out = res.stdout
    tip: str | None = None
    claims: dict[str, str] = {}
    blobs: dict[str, bytes] = {}
    pos = 0
    while pos < len(out):
        end = out.index(b"\n", pos)
        oid, kind, size, ref = out[pos:end].decode("utf-8", "surrogateescape").split(" ", 3)
        start = end + 1
        raw = out[start : start + int(size)]
        pos = start + int(size) + 1  # each record ends with a newline
        if ref == board_ref:
            tip = oid
        elif ref.startswith(claim_prefix):
            claims[ref.removeprefix(claim_prefix)] = oid
            if kind == "blob":
                blobs[oid] = _BLOB_CACHE.setdefault(oid, raw)
    return Listing(tip, claims, blobs)


def _names_only(wt: Worktree, board_ref: str, claim_prefix: str) -> Listing:
    res = wt.git(["for-each-ref", "--format=%(objectname) %(refname)", board_ref, claim_prefix])
    tip: str | None = None
    claims: dict[str, str] = {}
    for line in res.out.splitlines():
        oid, _, ref = line.partition(" ")
        if ref == board_ref:
            tip = oid
        elif ref.startswith(claim_prefix):
            claims[ref.removeprefix(claim_prefix)] = oid
    return Listing(tip, claims, {})


# ---- reading objects ---------------------------------------------------------------------


def _start(wt: Worktree, args: list[str], bufsize: int = -1) -> Process:
    """A git process of this repository talked to through pipes (it dies with us)."""
    pipe = PIPE
    return popen(
        args,
        cwd=wt.toplevel_str,
        env=wt.env(),
        stdin=pipe,
        stdout=pipe,
        stderr=pipe,
        bufsize=bufsize,
    )


class Batch:
    """One `git cat-file --batch` for a whole read: asked for trees, then for the blobs they
    name. Objects missing or of another type than asked are left out (the reader reports)."""

    def __init__(self, wt: Worktree) -> None:
        self._proc = _start(wt, ["cat-file", "--batch"], bufsize=0)
        self._buf = b""

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc.returncode is None:
            proc.kill()
            proc.communicate()

    def ask(self, names: list[str]) -> dict[str, tuple[str, str, bytes]]:
        """name -> (oid, type, content) for a few objects, by a round trip on the pipe."""
        assert self._proc.stdin is not None
        self._proc.stdin.write("".join(n + "\n" for n in names).encode())
        return {n: obj for n in names if (obj := self._object()) is not None}

    def last(self, oids: list[str]) -> dict[str, tuple[str, str, bytes]]:
        """The final question: written while the answer is read (any number of objects)."""
        out, err = self._proc.communicate("".join(o + "\n" for o in oids).encode())
        if self._proc.returncode != 0:
            raise GitError(["cat-file", "--batch"], self._proc.returncode, err.decode("replace"))
        self._buf += out
        return {o: obj for o in oids if (obj := self._object()) is not None}

    def _object(self) -> tuple[str, str, bytes] | None:
        header = self._take_line()
        parts = header.split(" ")
        if len(parts) != 3:
            return None  # "<name> missing" / "ambiguous"
        size = int(parts[2])
        data = self._take(size + 1)[:size]
        return parts[0], parts[1], data

    def _take_line(self) -> str:
        while b"\n" not in self._buf:
            self._fill()
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode("utf-8", "surrogateescape")

    def _take(self, n: int) -> bytes:
        while len(self._buf) < n:
            self._fill()
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def _fill(self) -> None:
        assert self._proc.stdout is not None
        chunk = self._proc.stdout.read(1 << 16)
        if not chunk:
            raise GitError(["cat-file", "--batch"], self._proc.wait(), "ended early")
        self._buf += chunk


def parse_tree(raw: bytes, oid_len: int) -> list[Entry]:
    """The entries of a tree object's content, in the tree's order (core.catfile reads it)."""
    entries = []
    for name, raw_mode, oid in tree_items(raw, oid_len):
        mode = raw_mode.decode()
        entries.append(Entry(mode.rjust(6, "0"), _TYPES.get(mode, "blob"), oid, os.fsdecode(name)))
    return entries


# Blobs are named by their content: what was read once is valid forever. An agent that asks
# for the board again (a long-running process, or a retry) reads only what changed.
_BLOB_CACHE: dict[str, bytes] = {}
_CACHE_LIMIT = 50_000


def read_tree(
    wt: Worktree, listing: Listing
) -> tuple[list[Entry], dict[str, Entry], dict[str, bytes]]:
    """(top-level entries but tasks/, the entries of tasks/ by name, blobs by id): the tip's
    tree and the content of its task files and of any claim record not yet read."""
    root: list[Entry] = []
    files: dict[str, Entry] = {}
    blobs = dict(listing.blobs)
    missing = [o for o in listing.claims.values() if o not in blobs]
    tip = listing.tip
    if tip is None and not missing:
        return root, files, blobs
    with Batch(wt) as batch:
        if tip is not None:
            oid_len = len(tip) // 2
            got = batch.ask([f"{tip}^{{tree}}", f"{tip}:{TASKS_DIR}"])
            top = got.get(f"{tip}^{{tree}}")
            if top is None or top[1] != "tree":
                raise GitError(
                    ["cat-file", "--batch"], 128, f"the task board's tip {tip} has no readable "
                    "tree (a missing or damaged object; `git fsck` names it)",
                )  # fmt: skip
            for e in parse_tree(top[2], oid_len):
                if not (e.name == TASKS_DIR and e.type == "tree"):
                    root.append(e)
            sub = got.get(f"{tip}:{TASKS_DIR}")
            if sub is not None and sub[1] == "tree":
                files = {e.name: e for e in parse_tree(sub[2], oid_len)}
        wanted = [e.oid for e in files.values() if e.type == "blob"] + missing
        wanted = [o for o in dict.fromkeys(wanted) if o not in blobs]
        for oid in wanted:
            if oid in _BLOB_CACHE:
                blobs[oid] = _BLOB_CACHE[oid]
        wanted = [o for o in wanted if o not in blobs]
        if len(_BLOB_CACHE) > _CACHE_LIMIT:
            _BLOB_CACHE.clear()
        for oid, (_, kind, data) in batch.last(wanted).items():
            if kind == "blob":
                blobs[oid] = _BLOB_CACHE[oid] = data
    return root, files, blobs


def cat_blob(wt: Worktree, oid: str) -> bytes | None:
    """One blob's content (None: missing or not a blob)."""
    if oid in _BLOB_CACHE:
        return _BLOB_CACHE[oid]
    with Batch(wt) as batch:
        got = batch.last([oid]).get(oid)
    return got[2] if got is not None and got[1] == "blob" else None


# ---- writing objects ---------------------------------------------------------------------


def blob_id(data: bytes, oid_len: int) -> str:
    """The id git gives `data` as a blob, in a repository whose ids are `oid_len` bytes."""
    return object_id(b"blob", data, oid_len * 2)


class BlobWriter:
    """`git hash-object -w` storing `contents` while the caller goes on; `ids` are known at
    once when the repository's hash is (`oid_len`), else after `wait`. `wait` checks git's ids
    against ours: call it before anything that names them is published."""

    def __init__(self, wt: Worktree, contents: list[bytes], oid_len: int | None) -> None:
        self._dir = _scratch(wt)
        self._paths: list[str] = []
        paths = self._paths
        for i, data in enumerate(contents):
            path = os.path.join(self._dir, str(i))
            with open(path, "wb") as fh:
                fh.write(data)
            paths.append(path)
        self._proc = _start(wt, ["hash-object", "-w", "--no-filters", "--stdin-paths"])
        self._input = "".join(p + "\n" for p in paths).encode()
        if len(self._input) <= _PIPE_SAFE:
            # git stores the blobs now, while the caller builds the trees (a few paths fit in
            # the pipe: this write never waits for git; a long list goes with `wait`).
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.write(self._input)
                self._proc.stdin.flush()
                self._input = b""
            except BrokenPipeError:
                pass  # git has failed: `wait` reports how
        self.ids = [blob_id(c, oid_len) for c in contents] if oid_len else []
        self._count = len(contents)
        self._stored: list[str] | None = None

    def wait(self) -> list[str]:
        if self._stored is not None:
            return self._stored
        if self._proc.returncode is not None:
            raise Rejected("git hash-object failed; no task was changed")
        try:
            out, err = self._proc.communicate(self._input)
        finally:
            for path in self._paths:
                os.unlink(path)
            os.rmdir(self._dir)
        code = self._proc.returncode or 0
        if code != 0:
            raise GitError(["hash-object"], code, err.decode("replace"))
        stored = out.decode().split()
        if len(stored) != self._count or (self.ids and stored != self.ids):
            raise Rejected(f"git hash-object stored {stored}, expected {self.ids or self._count}")
        self.ids = self._stored = stored
        return stored


_PIPE_SAFE = 4096  # bytes any pipe buffers


def _scratch(wt: Worktree) -> str:
    """A new private directory under the state dir (tempfile's, without importing it)."""
    os.makedirs(wt.state_dir_str, exist_ok=True)
    while True:
        path = os.path.join(wt.state_dir_str, f"task-blobs-{os.getpid()}-{os.urandom(6).hex()}")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        return path


def _tree_input(entries: list[Entry]) -> bytes:
    return b"".join(
        f"{e.mode} {e.type} {e.oid}\t".encode() + os.fsencode(e.name) + b"\0" for e in entries
    )


def make_trees(wt: Worktree, tasks: list[Entry], root: list[Entry]) -> str:
    """The root tree: `root` plus a `tasks/` tree of `tasks`; both by one `git mktree --batch`
    (the second tree is written once git has answered the first)."""
    proc = _start(wt, ["mktree", "-z", "--missing", "--batch"])
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(_tree_input(tasks) + b"\0")  # an empty record ends a tree
        proc.stdin.flush()
        sub = proc.stdout.readline().decode().strip()
        if not sub:
            raise GitError(["mktree"], proc.wait(), "no tree id")
        top = [*root, Entry("040000", "tree", sub, TASKS_DIR)]
        out, err = proc.communicate(_tree_input(top))
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0 or not out.strip():
        raise GitError(["mktree"], proc.returncode or 1, err.decode("replace"))
    return out.decode().strip()


def write_board(
    wt: Worktree,
    tip: str | None,
    root: list[Entry],
    files: dict[str, Entry],
    changed: dict[str, str | None],
    message: str,
    agent: str,
) -> str:
    """A commit on top of `tip` whose tasks/ is `files` with `changed` (file name -> blob id,
    None: removed) applied; its id. Objects only: no ref moves."""
    entries = dict(files)
    for name, oid in changed.items():
        if oid is None:
            entries.pop(name, None)
        else:
            entries[name] = Entry("100644", "blob", oid, name)
    tree = make_trees(wt, list(entries.values()), root)
    identity = {
        "GIT_AUTHOR_NAME": agent,
        "GIT_AUTHOR_EMAIL": f"{agent}@wt-task",
        "GIT_COMMITTER_NAME": "worktree-tools tasks",
        "GIT_COMMITTER_EMAIL": "wt-task@localhost",
    }
    return commits.build(wt, tree, [tip], message.encode() + b"\n", env=identity)
