"""Objects written the way git writes loose objects, by this process: a commit's blobs and the
trees on their way without a `git hash-object` and a `git mktree` (two processes: about 5 ms of
CPU and of wall time per commit, an eighth of a small commit).

What git does (`write_object_file` in object-file.c), kept here:
- The id is the hash of `TYPE SIZE\\0CONTENT` in the repository's format (SHA-1, or SHA-256 when
  its ids have 64 hex digits); the file `objects/XX/REST` holds the same bytes deflated at
  core.looseCompression, else core.compression, else 1 (git's default, Z_BEST_SPEED).
- An object already stored loose is freshened (its mtime set to now) instead of written, so a
  concurrent `git gc` does not take it for an old unreachable object and prune it before the
  commit refers to it.
- A new object is written to `objects/XX/tmp_obj_XXXXXX` (created exclusively, mode 0444 less
  the umask; `XX` made 0777 less the umask when absent), then linked to its name, or renamed
  where the file system has no hard links; a name that appeared meanwhile holds the same
  object. A `tmp_obj_` file a crash leaves behind is git's own kind of leftover: gc removes it.

Left to git (`for_config` answers None, and the caller runs hash-object and mktree as before):
a shared repository (core.sharedRepository other than umask: group permissions), fsync of object
files (core.fsync, core.fsyncObjectFiles, core.fsyncMethod), a second object format
(extensions.compatObjectFormat), core.bigFileThreshold or a blob of 512 MiB or more (git streams
those into a pack), and a compression level git would not accept.

Differences from git, both documented in docs/commit.md: an object that exists only in a pack or
an alternate gets a loose copy where git would freshen the pack (the next gc drops the copy,
`git prune-packed`); and SHA-1 is Python's, without the collision detection (SHA-1DC) git is
built with, so a blob crafted to collide with another object is not refused as git refuses it.

On wt-commit's hot path: os, errno and zlib; the hash is a C module imported on first use.
"""

from __future__ import annotations

import errno
import os
import zlib

from worktree_tools.core.fields import git_bool

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Protocol

    class _Hash(Protocol):
        def hexdigest(self) -> str: ...


# The configuration that decides how (and whether) objects are written here: PendingConfig
# (commit/build.py) reads these keys with the others, lower-cased as git prints them.
CONFIG_KEYS = (
    "core.sharedrepository",
    "core.fsync",
    "core.fsyncobjectfiles",
    "core.fsyncmethod",
    "core.compression",
    "core.loosecompression",
    "core.bigfilethreshold",
    "extensions.compatobjectformat",
)
_LEFT_TO_GIT = (
    "core.fsync",
    "core.fsyncobjectfiles",
    "core.fsyncmethod",
    "core.bigfilethreshold",
    "extensions.compatobjectformat",
)
BIG_FILE = 512 << 20  # git's core.bigFileThreshold default
_DEFAULT_LEVEL = 1  # Z_BEST_SPEED: git's core.looseCompression default
_LEVELS = frozenset(("-1", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"))


class LooseObjects:
    """The object directory of one repository, written as loose objects by this process."""

    __slots__ = ("_hash", "directory", "level")

    def __init__(self, directory: str, hex_len: int, level: int = _DEFAULT_LEVEL) -> None:
        self.directory = directory
        self.level = level
        self._hash = hasher(hex_len)

    @classmethod
    def for_config(
        cls, directory: str, config: Mapping[str, str], hex_len: int
    ) -> LooseObjects | None:
        """The writer for `directory` (`<common git dir>/objects`), or None when the
        configuration asks for more than this module does (see the module's docstring)."""
        if any(key in config for key in _LEFT_TO_GIT):
            return None
        shared = config.get("core.sharedrepository")
        if shared is not None and shared != "umask" and git_bool(shared) is not False:
            return None  # git's group or world permissions (or a mode): git writes
        level = _level(config)
        if level is None or hex_len not in (40, 64):
            return None
        return cls(directory, hex_len, level)

    def takes(self, sizes: list[int]) -> bool:
        """Whether blobs of these sizes are written here (git streams a big one into a pack)."""
        return all(size < BIG_FILE for size in sizes)

    def write(self, kind: bytes, content: bytes) -> str:
        """The id of the object (`blob`, `tree`, ...) holding `content`, now stored."""
        raw = _framed(kind, content)
        oid = self._hash(raw).hexdigest()
        folder = os.path.join(self.directory, oid[:2])
        path = os.path.join(folder, oid[2:])
        try:
            os.utime(path)  # there already: freshened, as git's freshen_loose_object does
            return oid
        except OSError:
            pass  # absent, or not ours to touch (then written below, as git does)
        try:
            _store(folder, path, zlib.compress(raw, self.level))
        except OSError as err:
            from worktree_tools.core.errors import WtError

            raise WtError(
                f"cannot add an object to {self.directory}: {err.strerror or err}",
                fix=f"check that you may write there: ls -ld {folder}",
            ) from err
        return oid


def _store(folder: str, path: str, data: bytes) -> None:
    tmp, fd = _create(folder)
    try:
        with open(fd, "wb") as f:  # written through the descriptor: the file is read-only
            f.write(data)
        _finalize(tmp, path)
    finally:
        try:  # noqa: SIM105 (no contextlib on the hot path)
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def _create(folder: str) -> tuple[str, int]:
    """A new empty file `folder/tmp_obj_XXXXXX` (mode 0444 less the umask), open for writing,
    made with its directory if needed (0777 less the umask), as git's create_tmpfile does."""
    for _ in range(100):
        name = os.path.join(folder, "tmp_obj_" + os.urandom(4).hex()[:6])
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        except FileNotFoundError:
            try:  # noqa: SIM105 (no contextlib on the hot path)
                os.mkdir(folder, 0o777)
            except FileExistsError:
                pass
            continue
        except FileExistsError:
            continue
        return name, fd
    raise FileExistsError(errno.EEXIST, "no free temporary object name", folder)


def _finalize(tmp: str, path: str) -> None:
    """Give the written object its name: a link (never replacing a file that is there: it is
    the same object), else a rename (git's finalize_object_file)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        return
    except OSError:
        os.rename(tmp, path)


def _level(config: Mapping[str, str]) -> int | None:
    """The zlib level for loose objects (git_default_core_config): core.looseCompression, else
    core.compression, else 1. None when either is not a plain level git takes (-1 to 9, in
    decimal): git checks every one it reads, and this leaves odd spellings (`010`, `0x5`,
    `1k`) to it."""
    levels = []
    for key in ("core.loosecompression", "core.compression"):
        value = config.get(key)
        if value is None:
            continue
        text = value.strip()
        if text not in _LEVELS:
            return None
        levels.append(int(text))
    level = levels[0] if levels else _DEFAULT_LEVEL
    return zlib.Z_DEFAULT_COMPRESSION if level == -1 else level


def object_id(kind: bytes, content: bytes, hex_len: int) -> str:
    """The id git gives `content` as an object of `kind`, in a repository whose ids have
    `hex_len` hex digits (nothing written)."""
    return hasher(hex_len)(_framed(kind, content)).hexdigest()


def _framed(kind: bytes, content: bytes) -> bytes:
    """`TYPE SIZE\\0CONTENT`: what git hashes and deflates for an object."""
    return b"%s %d\0" % (kind, len(content)) + content


def hasher(hex_len: int) -> Callable[[bytes], _Hash]:
    """The repository format's hash, from CPython's own C module: hashlib would load OpenSSL's
    bindings, milliseconds of start-up."""
    if hex_len == 64:
        try:
            import _sha2 as sha2  # type: ignore[import-not-found]  # Python >= 3.12
        except ImportError:
            try:
                import _sha256 as sha2  # type: ignore[import-not-found]
            except ImportError:
                import hashlib as sha2
        return sha2.sha256  # type: ignore[no-any-return]
    try:
        import _sha1 as sha1  # type: ignore[import-not-found]
    except ImportError:
        import hashlib as sha1
    return sha1.sha1  # type: ignore[no-any-return]


def tree_content(listing: Mapping[bytes, tuple[str, str]]) -> bytes:
    """A tree object's content for `listing` (name -> (octal mode, hex id)), as `git mktree`
    writes it: entries in git's order (by name, a directory's name compared as if it ended in
    `/`), each mode in octal without leading zeros, each id in binary."""
    items = []
    for name, (mode, oid) in listing.items():
        value = int(mode, 8)
        key = name + b"/" if value & 0o170000 == 0o040000 else name
        items.append((key, b"%o %s\0" % (value, name) + bytes.fromhex(oid)))
    items.sort()
    return b"".join(entry for _, entry in items)
