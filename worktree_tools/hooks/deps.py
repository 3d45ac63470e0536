"""The project's ignored dependency directories (`node_modules`, `.venv`, ...) in the hook
checkout: present as they are in the live worktree, without a copy per commit, and read-only to
the hooks.

A live directory is mirrored once per state of its contents into a store beside the hook
checkouts (`<hook root>/.deps/<fingerprint>/<name>`), and the checkout gets a symbolic link to
that mirror. The mirror's directories are its own and read-only (mode 0555): a hook cannot
create, rename or delete anything in it, so no cache or stray install lands in the live
directory. Its files are reflinked copies where the file system can share blocks (btrfs, XFS:
then they are read-only too), else hard links to the live files (same inode: a hook that opens
an existing file for writing would still reach the live file's bytes; none of the managers
does). The fingerprint covers the directory and two levels below it (what `npm install` and
`pip install` touch), so a reinstall in the live worktree makes a new mirror at the next commit.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import time
from pathlib import Path

from worktree_tools.core import atomic
from worktree_tools.core.errors import InvalidInput

DEFAULT_DEPS = ("node_modules", ".venv")
STORE = ".deps"
COMPLETE = ".wt-complete"
FICLONE = 0x40049409  # linux/fs.h
OLD_MIRROR_SECONDS = 3600.0  # a mirror replaced this long ago is no longer in any hook's use


def parse_names(values: list[str]) -> list[str]:
    """`wt.hookDeps` values (each a path relative to the top, or several separated by spaces);
    none configured: the defaults. A value that is absolute, climbs out or names .git is
    refused."""
    names = [n for v in values for n in v.split()] if values else list(DEFAULT_DEPS)
    for name in names:
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts or ".git" in parts or not parts:
            raise InvalidInput(
                f"wt.hookDeps names {name!r}: each entry must be a path inside the worktree",
                fix="git config --unset-all wt.hookDeps; git config --add wt.hookDeps DIR",
            )
    return names


def fingerprint(real: Path) -> str:
    h = hashlib.sha256(os.fsencode(real))
    for depth_dir in _two_levels(real):
        try:
            st = os.lstat(depth_dir)
        except OSError:
            continue
        h.update(f"{depth_dir}\0{st.st_ino}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
    return h.hexdigest()[:24]


def _two_levels(top: Path) -> list[Path]:
    out = [top]
    with contextlib.suppress(OSError):
        for entry in sorted(os.scandir(top), key=lambda e: e.name):
            out.append(Path(entry.path))
            if entry.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    inner = sorted(os.scandir(entry.path), key=lambda e: e.name)
                    out += [Path(e.path) for e in inner]
    return out


def mirror(source: Path, store: Path) -> Path:
    """The read-only mirror of `source` (its real directory), built when missing."""
    real = source.resolve()
    fp = fingerprint(real)
    home = store / fp
    target = home / real.name
    if (home / COMPLETE).exists():
        if _intact(home, target):
            return target
        _remove_tree(home)  # a hook with the power to write there (root) changed it: rebuild
    store.mkdir(parents=True, exist_ok=True)
    tmp = store / f".{fp}.tmp-{os.getpid()}"
    _remove_tree(tmp)
    tmp.mkdir()
    _build(real, tmp / real.name)
    (tmp / COMPLETE).write_text(f"{os.fspath(real)}\n{_shape(tmp / real.name)}\n", encoding="utf-8")
    os.chmod(tmp, 0o555)
    try:
        os.rename(tmp, home)
    except OSError:  # built meanwhile by a concurrent commit: use theirs
        _remove_tree(tmp)
    _prune(store, keep=home)
    return target


def _shape(top: Path) -> str:
    """What a mirror looks like two levels deep, independent of where it lies."""
    h = hashlib.sha256()
    for p in _two_levels(top):
        with contextlib.suppress(OSError):
            st = os.lstat(p)
            h.update(f"{os.path.relpath(p, top)}\0{st.st_ino}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:24]


def _intact(home: Path, target: Path) -> bool:
    try:
        lines = (home / COMPLETE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return len(lines) >= 2 and lines[1] == _shape(target)


def _build(src: Path, dst: Path) -> None:
    clone = True
    for root, dirs, files in os.walk(src, followlinks=False):
        rel = os.path.relpath(root, src)
        out = dst if rel == "." else dst / rel
        out.mkdir()
        for name in dirs[:]:
            s = os.path.join(root, name)
            if os.path.islink(s):  # a link to a directory: keep it a link, do not descend
                os.symlink(os.readlink(s), out / name)
                dirs.remove(name)
        for name in files:
            s = os.path.join(root, name)
            d = out / name
            st = os.lstat(s)
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(s), d)
            elif stat.S_ISREG(st.st_mode):
                if clone:
                    clone = _clone(s, d, st.st_mode)
                if not clone:
                    _link(s, d)
    for root, dirs, _files in os.walk(dst, topdown=False):
        for name in dirs:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                os.chmod(p, 0o555)
        os.chmod(root, 0o555)


def _clone(src: str, dst: Path, mode: int) -> bool:
    """A reflinked, read-only copy; False when the file system cannot share blocks."""
    try:
        import fcntl
    except ImportError:
        return False
    with open(src, "rb") as s, open(dst, "wb") as d:
        try:
            fcntl.ioctl(d.fileno(), FICLONE, s.fileno())
        except OSError:
            ok = False
        else:
            ok = True
    if not ok:
        os.unlink(dst)
        return False
    os.chmod(dst, stat.S_IMODE(mode) & 0o555)
    return True


def _link(src: str, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError as err:
        if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
        shutil.copy2(src, dst)
        os.chmod(dst, stat.S_IMODE(os.lstat(dst).st_mode) & 0o555)


def _prune(store: Path, keep: Path) -> None:
    """Mirrors replaced more than an hour ago (no hook still runs against them)."""
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(store):
            path = Path(entry.path)
            if path == keep or not (path / COMPLETE).exists():
                continue
            if now - os.lstat(path / COMPLETE).st_mtime > OLD_MIRROR_SECONDS and _stale(path):
                _remove_tree(path)


def _stale(home: Path) -> bool:
    """The mirror of a source whose contents have changed since (or that is gone)."""
    try:
        source = Path((home / COMPLETE).read_text(encoding="utf-8").splitlines()[0])
    except (OSError, IndexError):
        return False
    return not source.exists() or fingerprint(source) != home.name


def _remove_tree(path: Path) -> None:
    if not (path.exists() or path.is_symlink()):
        return
    for root, dirs, _files in os.walk(path):
        for name in dirs:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                with contextlib.suppress(OSError):
                    os.chmod(p, 0o755)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o755)
    shutil.rmtree(path, ignore_errors=True)


def link_into(checkout: Path, live: Path, names: list[str], store: Path) -> list[str]:
    """Give `checkout` each dependency directory `live` has, as a link to its mirror. Returns
    the names linked; a link whose live directory is gone is removed."""
    linked: list[str] = []
    for name in names:
        source = live / name
        link = checkout / name
        if not source.is_dir():
            if link.is_symlink():
                link.unlink()
            continue
        target = mirror(source, store)
        if link.is_symlink() and os.readlink(link) == os.fspath(target):
            linked.append(name)
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.is_dir():
            _remove_tree(link)
        atomic.symlink(link, target)
        linked.append(name)
    return linked
