"""What a worktree holds, judged by content alone.

Git's own view (`git status`, `git add -A`) trusts the index: its stat cache, and the
`--assume-unchanged` and `--skip-worktree` flags that make it skip a changed file; and `git add`
runs the clean filters (`core.autocrlf`, `.gitattributes` text/eol/ident/filter), so the blob
it writes is not the file's bytes. A snapshot does neither: it lists every path that can hold
work (HEAD's, the index's, untracked ones and ignored ones that are not regenerable) and hashes
each file's raw bytes, opened through directory descriptors that never follow a symbolic link.

Ignored paths are work too (a `.env`, notes), except the regenerable ones named by
`wt.rescueDiscard` (gitignore-style names and globs; default `DEFAULT_DISCARD`), which are left
out only when git also ignores them.
"""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.repo import Worktree

DEFAULT_DISCARD = (
    "node_modules/",
    ".venv/",
    "venv/",
    "__pycache__/",
    "*.pyc",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".tox/",
    ".nox/",
    ".gradle/",
    ".next/",
    "target/",
    "build/",
    "dist/",
)
GITLINK = "160000"


@dataclass(frozen=True)
class Entry:
    """One path of a snapshot: its git mode and the id of its raw bytes."""

    path: str
    mode: str
    oid: str


@dataclass(frozen=True)
class Listing:
    """The paths that may hold work, and what is left out or cannot be saved."""

    paths: tuple[str, ...]
    index: dict[str, Entry] = field(default_factory=dict)  # stage-0 index entries
    skip_worktree: frozenset[str] = frozenset()
    gitlinks: frozenset[str] = frozenset()
    nested: tuple[str, ...] = ()  # repositories inside the worktree (their files are not ours)
    discarded: tuple[str, ...] = ()  # ignored and regenerable: not saved


class Discard:
    """gitignore-style names and globs: `x/` matches directories only; a pattern without a
    slash matches any path component; one with a slash matches from the top."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = tuple(p.strip() for p in patterns if p.strip())

    def matches(self, path: str, is_dir: bool) -> bool:
        parts = path.rstrip("/").split("/")
        for pat in self.patterns:
            dir_only = pat.endswith("/")
            core = pat.strip("/")
            if "/" in core:
                for i in range(1, len(parts) + 1):
                    last = i == len(parts)
                    if (not dir_only or is_dir or not last) and fnmatch.fnmatchcase(
                        "/".join(parts[:i]), core
                    ):
                        return True
                continue
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                if (not dir_only or is_dir or not last) and fnmatch.fnmatchcase(part, core):
                    return True
        return False


def discard_rules(tree: Worktree) -> Discard:
    res = tree.git(["config", "--get-all", "wt.rescueDiscard"], check=False)
    configured = tuple(line for line in res.out.splitlines())
    return Discard(configured if res.returncode == 0 else DEFAULT_DISCARD)


def _z(text: str) -> list[str]:
    return [item for item in text.split("\0") if item]


def list_paths(tree: Worktree, index: Path | None = None) -> Listing:
    """Every path of `tree` that may hold work, whatever the index's flags say."""

    def run(args: list[str]) -> str:
        return tree.git(args, index=index).out

    paths: set[str] = set()
    gitlinks: set[str] = set()
    head = tree.git(["rev-parse", "-q", "--verify", "HEAD^{tree}"], check=False)
    if head.returncode == 0:
        for item in _z(run(["ls-tree", "-r", "-z", "--full-tree", "HEAD"])):
            meta, _, path = item.partition("\t")
            paths.add(path)
            if meta.startswith(GITLINK):
                gitlinks.add(path)
    entries: dict[str, Entry] = {}
    skip: set[str] = set()
    for item in _z(run(["ls-files", "-z", "-s", "-t"])):
        meta, _, path = item.partition("\t")
        tag, mode, oid, stage = meta.split(" ")
        paths.add(path)
        if mode == GITLINK:
            gitlinks.add(path)
        if stage == "0":
            entries[path] = Entry(path, mode, oid)
        if tag == "S":
            skip.add(path)
    nested: list[str] = []
    for path in _z(run(["ls-files", "-z", "-o", "--exclude-standard"])):
        if path.endswith("/"):
            nested.append(path.rstrip("/"))  # git lists a nested repository as a directory
        else:
            paths.add(path)
    rules = discard_rules(tree)
    discarded: list[str] = []
    ignored = run(["ls-files", "-z", "-o", "-i", "--exclude-standard", "--directory"])
    for path in _z(ignored):
        is_dir = path.endswith("/")
        if rules.matches(path, is_dir):
            discarded.append(path)
        elif is_dir:
            for found, kind in _walk(tree.toplevel, path.rstrip("/"), rules):
                if kind == "nested":
                    nested.append(found)
                elif kind == "discard":
                    discarded.append(found)
                else:
                    paths.add(found)
        else:
            paths.add(path)
    return Listing(
        tuple(sorted(paths)),
        entries,
        frozenset(skip),
        frozenset(gitlinks),
        tuple(sorted(nested)),
        tuple(sorted(discarded)),
    )


def _walk(top: Path, rel: str, rules: Discard) -> Iterator[tuple[str, str]]:
    """Files under an ignored directory (never following a link): (path, "file"), or a
    nested repository or regenerable directory found there as (path, "nested"|"discard")."""
    try:
        with os.scandir(top / rel) as it:
            items = sorted(it, key=lambda e: e.name)
    except OSError:
        return
    if any(e.name == ".git" for e in items):
        yield rel, "nested"
        return
    for item in items:
        sub = f"{rel}/{item.name}"
        is_dir = item.is_dir(follow_symlinks=False)
        if rules.matches(sub, is_dir):
            yield sub + ("/" if is_dir else ""), "discard"
        elif is_dir:
            yield from _walk(top, sub, rules)
        else:
            yield sub, "file"


class Hasher:
    """Blob ids of raw bytes, in the repository's object format (SHA-1 or SHA-256). With a
    `scratch` directory the blobs the repository lacks are also stored (`flush`); without
    one, ids are only computed (a dry run, a comparison)."""

    def __init__(self, wt: Worktree, scratch: Path | None = None) -> None:
        fmt = wt.git(["rev-parse", "--show-object-format"], check=False).out.strip()
        self.algo = fmt if fmt in ("sha1", "sha256") else "sha1"
        self.wt = wt
        self.scratch = scratch
        self._seen: set[str] = set()
        self._pending: list[tuple[str, Path]] = []
        self._check: subprocess.Popen[bytes] | None = None

    def blob(self, data: bytes) -> str:
        h = hashlib.new(self.algo)
        h.update(b"blob %d\0" % len(data))
        h.update(data)
        oid = h.hexdigest()
        if self.scratch is not None and oid not in self._seen:
            self._seen.add(oid)
            if not self._exists(oid):  # most blobs are HEAD's already
                tmp = self.scratch / f"blob-{len(self._pending)}"
                tmp.write_bytes(data)
                self._pending.append((oid, tmp))
        return oid

    def _exists(self, oid: str) -> bool:
        if self._check is None:
            self._check = subprocess.Popen(
                ["git", "cat-file", "--batch-check"],
                cwd=self.wt.toplevel if self.wt.toplevel.is_dir() else self.wt.commondir,
                env=self.wt.env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        assert self._check.stdin is not None and self._check.stdout is not None
        self._check.stdin.write(oid.encode() + b"\n")
        self._check.stdin.flush()
        return not self._check.stdout.readline().rstrip().endswith(b" missing")

    def flush(self) -> None:
        """Store the blobs the repository lacked (one `git hash-object -w --no-filters`)."""
        self.close()
        if not self._pending:
            return
        paths = "".join(f"{os.fspath(tmp)}\n" for _oid, tmp in self._pending).encode()
        res = self.wt.git(["hash-object", "-w", "--no-filters", "--stdin-paths"], input=paths)
        if res.out.split() != [oid for oid, _tmp in self._pending]:
            raise InvalidInput("a file changed while it was being saved; run gc again")
        for _oid, tmp in self._pending:
            tmp.unlink(missing_ok=True)
        self._pending = []

    def close(self) -> None:
        if self._check is not None:
            if self._check.stdin is not None:
                self._check.stdin.close()
            self._check.wait()
            self._check = None


class _Dirs:
    """Directory descriptors along one path, opened without following links (a directory
    swapped for a link reads as absent, never as the link's target)."""

    def __init__(self, root: Path) -> None:
        self.root = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        self.stack: list[tuple[str, int]] = []

    def close(self) -> None:
        for _name, fd in self.stack:
            os.close(fd)
        self.stack = []
        os.close(self.root)

    def parent(self, parts: list[str]) -> int | None:
        keep = 0
        while keep < len(self.stack) and keep < len(parts) and self.stack[keep][0] == parts[keep]:
            keep += 1
        for _name, fd in self.stack[keep:]:
            os.close(fd)
        del self.stack[keep:]
        fd = self.stack[-1][1] if self.stack else self.root
        for name in parts[keep:]:
            try:
                fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:
                return None
            self.stack.append((name, fd))
        return fd


def read_file(dir_fd: int, name: str) -> tuple[str, bytes] | None:
    """(git mode, raw bytes or link target) of one entry; None when it is no file or link."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return "120000", os.fsencode(os.readlink(name, dir_fd=dir_fd))
    if not stat.S_ISREG(st.st_mode):
        return None
    try:
        # O_NONBLOCK: a file swapped for a fifo meanwhile must not hang the read
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError as err:
        if err.errno in (errno.ENOENT, errno.ELOOP):
            return None
        raise InvalidInput(f"cannot read {name}: {err.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return ("100755" if st.st_mode & stat.S_IXUSR else "100644"), b"".join(chunks)


def read_entries(top: Path, listing: Listing, hasher: Hasher) -> list[Entry]:
    """The raw content of every listed path that exists on disk."""
    out: list[Entry] = []
    dirs = _Dirs(top)
    try:
        for path in listing.paths:
            parts = path.split("/")
            fd = dirs.parent(parts[:-1])
            found = None if fd is None else read_file(fd, parts[-1])
            if found is not None:
                mode, data = found
                out.append(Entry(path, mode, hasher.blob(data)))
            elif path in listing.gitlinks:
                sub = _gitlink_head(top / path)
                if sub is not None:
                    out.append(Entry(path, GITLINK, sub))
                elif path in listing.index:
                    out.append(listing.index[path])
            elif path in listing.skip_worktree and path in listing.index:
                out.append(listing.index[path])  # sparse: absent by design, not deleted
    finally:
        dirs.close()
    return out


def _gitlink_head(path: Path) -> str | None:
    from worktree_tools.core.gitcmd import git

    if not (path / ".git").exists():
        return None
    res = git(["rev-parse", "-q", "--verify", "HEAD"], cwd=path, check=False)
    return res.out.strip() or None if res.returncode == 0 else None


def dirty_gitlinks(top: Path, listing: Listing) -> list[str]:
    """Tracked nested repositories (submodules) that hold what a rescue cannot: changes of
    their own, or their own object store (a `.git` directory, not one absorbed into the
    superproject's `modules/`), where unpushed commits may live."""
    from worktree_tools.core.gitcmd import git

    out = []
    for path in sorted(listing.gitlinks):
        if (top / path / ".git").is_dir() and not (top / path / ".git").is_symlink():
            out.append(path)
        elif (top / path / ".git").exists():
            res = git(["status", "--porcelain", "-z"], cwd=top / path, check=False)
            if res.returncode != 0 or res.out:
                out.append(path)
    return out


def tree_of(wt: Worktree, scratch: Path, entries: list[Entry], *, write: bool) -> str:
    """The tree holding exactly `entries`."""
    index = scratch / "snapshot-index"
    index.unlink(missing_ok=True)
    data = b"".join(f"{e.mode} {e.oid}\t".encode() + os.fsencode(e.path) + b"\0" for e in entries)
    wt.git(["update-index", "-z", "--index-info"], index=index, input=data)
    args = ["write-tree"] if write else ["write-tree", "--missing-ok"]
    return wt.git(args, index=index).out.strip()


def tree_entries(wt: Worktree, tree: str) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for item in _z(wt.git(["ls-tree", "-r", "-z", "--full-tree", tree]).out):
        meta, _, path = item.partition("\t")
        mode, _kind, oid = meta.split(" ")
        out[path] = Entry(path, mode, oid)
    return out
