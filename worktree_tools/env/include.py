"""`.worktreeinclude`: ignored files (`.env`, `node_modules/`...) that a new worktree gets from
the main worktree.

The file at the top of the main worktree lists paths in gitignore syntax. Git itself matches
them (`git ls-files --others --ignored --exclude-from`), so the rules are exactly gitignore's.
A matching path is brought along only when the repository ignores it: a tracked path is
skipped and named (the checkout already has it), and so is an untracked one that is not
ignored (it would show up as new work in the agent's worktree).

Nothing outside the repository is read through a link: symbolic links are recreated as links
(never followed), and a source or destination whose directory resolves outside its worktree is
skipped. `wt.include.mode`: `copy` (bytes), `link` (hard links: fast, but the two worktrees then
share those files' contents), `reflink` (copy-on-write clones where the filesystem can, a copy
elsewhere), `auto` (the default: same as `reflink`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from worktree_tools.core import faults
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.gitcmd import git
from worktree_tools.core.statefiles import INCLUDE_FILE as INCLUDE_FILE

CONFIG_KEY = "wt.include.mode"
SHOWN = 50  # skipped paths listed in full; the rest are counted


class Mode(str, Enum):
    COPY = "copy"
    LINK = "link"
    REFLINK = "reflink"
    AUTO = "auto"

    @classmethod
    def parse(cls, raw: str | None) -> Mode:
        if raw is None or raw == "":
            return cls.AUTO
        try:
            return cls(raw.strip().lower())
        except ValueError:
            raise InvalidInput(
                f"{CONFIG_KEY} = {raw!r} is not one of copy, link, reflink, auto",
                fix=f"git config {CONFIG_KEY} auto",
            ) from None


@dataclass
class IncludeReport:
    mode: Mode
    source: str | None = None
    files: int = 0
    links: int = 0  # symbolic links recreated
    bytes: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    skipped: list[dict[str, str]] = field(default_factory=list)
    skipped_count: int = 0

    def skip(self, path: str, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < SHOWN:
            self.skipped.append({"path": path, "reason": reason})

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "source": self.source,
            "files": self.files,
            "symlinks": self.links,
            "bytes": self.bytes,
            "methods": dict(self.methods),
            "skipped": self.skipped,
            "skipped_count": self.skipped_count,
        }


def _git_list(cwd: Path, args: list[str], stdin: bytes | None = None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    res = git(args, cwd=cwd, env=env, input=stdin)
    return [os.fsdecode(p) for p in res.stdout.split(b"\0") if p]


def plan(main: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """(paths to bring, [(path, why skipped)]) for the `.worktreeinclude` of `main`."""
    patterns = main / INCLUDE_FILE
    try:
        info = os.lstat(patterns)
    except FileNotFoundError:
        return [], []
    if not stat.S_ISREG(info.st_mode):
        return [], [(INCLUDE_FILE, "not a regular file (a link is never followed): not read")]
    pat = os.fspath(patterns)
    # One walk for both: -t tags tracked paths "H " (and friends) and untracked ones "? ".
    tagged = _git_list(
        main, ["ls-files", "-z", "-t", "--cached", "--others", "--ignored", f"--exclude-from={pat}"]
    )
    listed = [p[2:] for p in tagged if p.startswith("? ")]
    tracked = sorted({p[2:] for p in tagged if not p.startswith("? ")})
    skipped = [(p, "tracked: the checkout already has it") for p in tracked]
    listed = [p for p in listed if p != INCLUDE_FILE]
    if not listed:
        return [], skipped
    # What the repository ignores, by git's own rules (one walk; `check-ignore --stdin` is
    # far slower per path).
    ignored = set(
        _git_list(main, ["ls-files", "-z", "--others", "--ignored", "--exclude-standard"])
    )
    bring = [p for p in listed if p in ignored]
    why = "not ignored by git: it would show as new work"
    skipped += [(p, why) for p in listed if p not in ignored]
    return bring, skipped


class _Copier:
    """Brings files one by one with the chosen method, falling back when the filesystem
    cannot (no reflinks, another device)."""

    def __init__(self, mode: Mode, report: IncludeReport) -> None:
        self.mode = mode
        self.report = report
        self.reflink_ok = mode in (Mode.REFLINK, Mode.AUTO)
        self.link_ok = mode is Mode.LINK

    @property
    def checks_existing(self) -> bool:
        """Copies must look first (they would overwrite); a link call fails on its own."""
        return not self.link_ok

    def file(self, src: str, dst: str, info: os.stat_result) -> None:
        if self.link_ok:
            try:
                os.link(src, dst, follow_symlinks=False)
                self.report.methods["link"] += 1
                return
            except OSError as err:
                if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                self.link_ok = False
        if self.reflink_ok and _reflink(src, dst):
            self.report.methods["reflink"] += 1
        else:
            self.reflink_ok = False
            shutil.copyfile(src, dst, follow_symlinks=False)
            self.report.methods["copy"] += 1
        os.chmod(dst, stat.S_IMODE(info.st_mode))
        os.utime(dst, ns=(info.st_atime_ns, info.st_mtime_ns))


def _reflink(src: str, dst: str) -> bool:
    """A copy-on-write clone (Linux FICLONE), or False when the filesystem cannot."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux
        return False
    ficlone = 0x40049409
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        try:
            fcntl.ioctl(fout.fileno(), ficlone, fin.fileno())
        except OSError:
            fout.close()
            os.unlink(dst)
            return False
    return True


def _real_dir(root: str, rel: str, cache: dict[str, bool]) -> bool:
    """Whether `root/rel` is a directory reached without any symbolic link (each component
    checked once: a link, even one pointing inside, is never gone through)."""
    if not rel:
        return True
    known = cache.get(rel)
    if known is not None:
        return known
    ok = _real_dir(root, rel.rpartition("/")[0], cache)
    if ok:
        try:
            ok = stat.S_ISDIR(os.lstat(f"{root}/{rel}").st_mode)
        except OSError:
            ok = False
    cache[rel] = ok
    return ok


def bring(main: Path, tree: Path, mode: Mode) -> IncludeReport:
    """Copy (or link) what `.worktreeinclude` lists from `main` into the new worktree `tree`.
    Existing destinations are never overwritten."""
    report = IncludeReport(mode=mode, source=os.fspath(main))
    paths, skipped = plan(main)
    for path, why in skipped:
        report.skip(path, why)
    if not paths:
        return report
    copier = _Copier(mode, report)
    main_s, tree_s = os.fspath(main), os.fspath(tree)
    safe_src: dict[str, bool] = {}
    safe_dst: dict[str, bool] = {}
    made: list[tuple[str, int]] = []
    for rel in paths:
        parent = rel.rpartition("/")[0]
        src, dst = f"{main_s}/{rel}", f"{tree_s}/{rel}"
        if not _real_dir(main_s, parent, safe_src):
            report.skip(rel, "its directory is reached through a link: not followed")
            continue
        try:
            info = os.lstat(src)
        except FileNotFoundError:
            report.skip(rel, "vanished while being copied")
            continue
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
            report.skip(rel, "not a regular file or a symbolic link")
            continue
        if parent not in safe_dst:
            try:
                _make_dirs(main_s, tree_s, parent, made, safe_dst)
            except OSError:  # a file of the checkout where the directory would go
                safe_dst[parent] = False
        if not _real_dir(tree_s, parent, safe_dst):
            report.skip(rel, "its directory in the new worktree is a file or a link: not followed")
            continue
        looked = copier.checks_existing
        if looked and os.path.lexists(dst):
            report.skip(rel, "already exists in the new worktree")
            continue
        try:
            if stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(src), dst)
                report.links += 1
            else:
                copier.file(src, dst, info)
                report.files += 1
                report.bytes += info.st_size
            faults.point("wt-include-file")
        except FileExistsError:  # link modes find it out from the link call itself
            report.skip(rel, "already exists in the new worktree")
        except OSError as err:  # unreadable, disk full...: named, and the rest goes on
            if looked:  # it did not exist before: ours, and partial
                with contextlib.suppress(OSError):
                    os.unlink(dst)
            report.skip(rel, f"could not be copied: {err.strerror or err}")
    for directory, mode_bits in reversed(made):  # last: a read-only directory stays writable
        with contextlib.suppress(OSError):
            os.chmod(directory, mode_bits)
    return report


def _make_dirs(
    main: str, tree: str, rel: str, made: list[tuple[str, int]], real: dict[str, bool]
) -> None:
    """Create `tree/rel` and its missing parents, remembering the source modes to apply.
    A directory made here is a real one (`real`), unless a parent is not."""
    missing: list[str] = []
    cur = rel
    while cur and not os.path.lexists(f"{tree}/{cur}"):
        missing.append(cur)
        cur = cur.rpartition("/")[0]
    if cur and not _real_dir(tree, cur, real):
        return  # never create anything under a link or a file
    for part in reversed(missing):
        os.mkdir(f"{tree}/{part}")
        real[part] = True
        with contextlib.suppress(OSError):
            made.append((f"{tree}/{part}", stat.S_IMODE(os.lstat(f"{main}/{part}").st_mode)))
