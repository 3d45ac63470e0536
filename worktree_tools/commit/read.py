"""Read the named files through paths that cannot follow a symbolic link.

Every directory on the way is opened relative to its parent's descriptor with O_NOFOLLOW, starting
from the worktree's top, so a directory swapped for a link (to `/etc`, say) while we read is
refused instead of followed; the file itself is opened the same way and its bytes are what gets
committed. A directory that holds `.git` (a repository nested in this one) is refused, as git
refuses paths inside it.
"""

from __future__ import annotations

import errno
import os
import stat

from worktree_tools.core.errors import PathRefused

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
MAX_OPEN_DIRS = 256  # descriptors kept open at once (the soft limit is often 1024)


class Kind:
    """What a path is (Found.kind): one of these words, compared with `is`."""

    FILE = "file"
    LINK = "link"
    DIR = "dir"
    MISSING = "missing"


class Found:
    """What is at a path: a file's bytes (and exec bit), a link's target, or a directory."""

    __slots__ = ("data", "executable", "kind")

    def __init__(self, kind: str, data: bytes = b"", executable: bool = False) -> None:
        self.kind = kind
        self.data = data
        self.executable = executable


MISSING = Found(Kind.MISSING)


class SafeTree:
    """`with SafeTree(top) as tree: tree.read("a/b.txt")` — descriptors are cached per directory
    (many paths share a few directories) and closed on exit."""

    def __init__(self, top: str | os.PathLike[str]) -> None:
        self.top = os.fspath(top)
        self._dirs: dict[str, int | None] = {}

    def __enter__(self) -> SafeTree:
        self._dirs[""] = os.open(self.top, _DIR_FLAGS)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for fd in self._dirs.values():
            if fd is not None:
                os.close(fd)
        self._dirs.clear()

    def dir_fd(self, rel_dir: str) -> int | None:
        """A descriptor of directory `rel_dir` ("" for the top); None when it does not exist
        (or is not a directory: then nothing can be below it)."""
        if rel_dir in self._dirs:
            return self._dirs[rel_dir]
        if len(self._dirs) > MAX_OPEN_DIRS:  # paths come sorted: few directories are reused
            self._evict()
        parent, _, name = rel_dir.rpartition("/")
        parent_fd = self.dir_fd(parent)
        fd: int | None = None
        if parent_fd is not None:
            try:
                fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
            except FileNotFoundError:
                fd = None
            except OSError as err:
                if err.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                if err.errno == errno.ENOTDIR and not _is_link(name, parent_fd):
                    self._dirs[rel_dir] = None  # a file: nothing can be below it
                    return None
                raise PathRefused(
                    f"{rel_dir} is a symbolic link: wt-commit never commits through a link "
                    "(it may lead outside the worktree)"
                ) from None
            if fd is not None and _has_git(fd):
                os.close(fd)
                raise PathRefused(
                    f"{rel_dir} is a git repository nested in this worktree; git does not "
                    "track paths inside it",
                    fix=f"commit inside it (cd {rel_dir} && wt-commit ...), or add it as a "
                    f"submodule: git submodule add ./{rel_dir}",
                    nested_repository=rel_dir,
                )
        self._dirs[rel_dir] = fd
        return fd

    def _evict(self) -> None:
        for key, fd in list(self._dirs.items()):
            if key and fd is not None:
                os.close(fd)
        self._dirs = {"": self._dirs[""]}

    def read(self, rel: str) -> Found:
        """What is at `rel` now, read without following any link."""
        parent, _, name = rel.rpartition("/")
        dfd = self.dir_fd(parent)
        if dfd is None:
            return MISSING
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=dfd)
        except FileNotFoundError:
            return MISSING
        except OSError as err:
            if err.errno != errno.ELOOP:
                raise
            try:
                return Found(Kind.LINK, os.readlink(os.fsencode(name), dir_fd=dfd))
            except OSError:
                raise PathRefused(
                    f"{rel} changed while it was read", fix="run the same wt-commit again"
                ) from None
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                return Found(Kind.DIR)
            if not stat.S_ISREG(st.st_mode):
                raise PathRefused(
                    f"{rel} is not a regular file, a symbolic link or a directory; git cannot "
                    "track it"
                )
            return Found(Kind.FILE, _read_all(fd, st.st_size), bool(st.st_mode & stat.S_IXUSR))
        finally:
            os.close(fd)


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return False


def _has_git(dir_fd: int) -> bool:
    try:
        os.stat(".git", dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        return False
    return True


def _read_all(fd: int, size_hint: int) -> bytes:
    chunks = []
    want = max(size_hint, 65536)
    while chunk := os.read(fd, want):
        chunks.append(chunk)
    return b"".join(chunks)
