"""Finding the worktree around a directory without starting git, where the case is plain.

`git rev-parse --path-format=absolute --git-dir --git-common-dir --show-toplevel --git-path
hooks` costs wt-commit a process (about 2.5 ms of CPU, a fifteenth of a small commit). In the
plain case git's discovery (setup_git_directory_gently_1 in setup.c) is a walk up from the
current directory to the first `.git`; `guess` makes the same walk and answers only when the
case is plain, else None, and the caller asks rev-parse as before:

- none of GIT_DIR, GIT_WORK_TREE, GIT_CEILING_DIRECTORIES, GIT_DISCOVERY_ACROSS_FILESYSTEM (and
  git's test switch GIT_TEST_ASSUME_DIFFERENT_OWNER) in the environment;
- on the way up, a directory whose `.git` is a git directory, or a file `gitdir: PATH` naming
  one, before any directory that is itself a git directory (a bare repository, or the inside of
  a `.git`: None) and without leaving the start's file system (None);
- the work tree, the `.git` file and the git directory owned by this user, so that git's
  safe.directory check passes without configuration (else None; root with SUDO_UID too);
- a git directory as git's is_git_directory sees one: a `HEAD` that is a symbolic ref into
  `refs/` or an object id, and `objects` and `refs` in the common directory (named by its
  `commondir` file in a linked worktree's git directory).

What the walk cannot see is configuration, which wt-commit reads anyway in one `git config`
(CONFIG_KEYS), run from the same directory so that git finds the repository (and matches
`includeIf "gitdir:..."`) as it does for `git commit`; a warning from it (a repository format git
will not read) leaves the answer to rev-parse (commit/locate.locate_plain). `settle` takes that
configuration and refuses (None) a repository with core.worktree (a submodule's git directory has
one) or a true core.bare, or a core.hooksPath git would expand or refuse (`~`, `%(prefix)`,
empty, set without a value, a symbolic-link loop); else the hooks directory is core.hooksPath,
relative to the work tree, or `hooks` in the common directory. Paths are real paths, as
rev-parse's absolute format prints them. tests/core/test_discovery.py compares both ways on
many layouts; tests/core/test_discovery_attack.py holds the divergences an attack found.

On wt-commit's hot path: os only.
"""

from __future__ import annotations

import errno
import os

from worktree_tools.core.fields import git_bool
from worktree_tools.core.repo import Worktree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Set

    Found = tuple[str, str, str]  # (work tree, git directory, common directory)

CONFIG_KEYS = ("core.worktree", "core.bare", "core.hookspath")
_GIT_DECIDES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_TEST_ASSUME_DIFFERENT_OWNER",
)
_HEX = frozenset("0123456789abcdefABCDEF")


class _GitDecides(Exception):
    """The walk met something only git may judge."""


def guess(cwd: str | os.PathLike[str]) -> Found | None:
    """(work tree, git directory, common directory) of the worktree around `cwd`, found as git
    finds it, or None when git must decide (see the module's docstring)."""
    environ = os.environ
    if any(name in environ for name in _GIT_DECIDES):
        return None
    if os.geteuid() == 0 and "SUDO_UID" in environ:
        return None
    try:
        here = os.path.realpath(cwd, strict=True)
        device = os.stat(here).st_dev
        while True:
            found = _at(here)
            if found is not None:
                return found
            if is_git_directory(here):
                return None  # a bare repository, or the inside of a git directory
            parent = os.path.dirname(here)
            if parent == here or os.stat(parent).st_dev != device:
                return None  # the root; or git stops at a file system's edge
            here = parent
    except (OSError, ValueError, _GitDecides):
        return None


def _at(top: str) -> Found | None:
    """The worktree `top/.git` makes of `top`; None when it is no repository's (absent, or a
    directory that is no git directory). _GitDecides for a `.git` file git would refuse, or
    files that are not this user's."""
    dotgit = os.path.join(top, ".git")
    try:
        st = os.stat(dotgit)
    except FileNotFoundError:
        return None
    owned: tuple[str, ...]
    if os.path.isdir(dotgit):
        if not is_git_directory(dotgit):
            return None
        gitdir, owned = dotgit, (top, dotgit)
        if os.path.islink(dotgit):
            gitdir = os.path.realpath(dotgit)
    elif st.st_mode & 0o170000 == 0o100000:
        gitdir = os.path.realpath(_read_gitfile(dotgit))
        owned = (top, dotgit, gitdir)
    else:
        raise _GitDecides(dotgit)
    uid = os.geteuid()
    if any(os.lstat(path).st_uid != uid for path in owned):
        raise _GitDecides("safe.directory")
    # `top` is a real path (guess walks up from one), and so is `gitdir` by now
    return top, gitdir, _common_dir(gitdir)


def _read_gitfile(path: str) -> str:
    """The git directory a `.git` file names (`gitdir: PATH`, relative to the file's
    directory); _GitDecides for anything git would refuse."""
    with open(path, "rb") as f:
        data = f.read()
    named = data[8:].rstrip(b"\r\n")
    if not data.startswith(b"gitdir: ") or not named or b"\0" in named:
        raise _GitDecides(path)
    gitdir = os.path.join(os.path.dirname(path), os.fsdecode(named))
    if not is_git_directory(gitdir):
        raise _GitDecides(path)
    return gitdir


def _common_dir(gitdir: str) -> str:
    """The common directory of `gitdir`: where its `commondir` file points, else itself."""
    try:
        with open(os.path.join(gitdir, "commondir"), "rb") as f:
            named = f.read().rstrip(b"\r\n")
    except FileNotFoundError:
        return gitdir
    return os.path.realpath(os.path.join(gitdir, os.fsdecode(named)))


def is_git_directory(path: str) -> bool:
    """git's is_git_directory: a valid HEAD, and `objects` and `refs` in its common
    directory, both searchable."""
    if not _valid_head(os.path.join(path, "HEAD")):
        return False
    common = _common_dir(path)
    return os.access(os.path.join(common, "objects"), os.X_OK) and os.access(
        os.path.join(common, "refs"), os.X_OK
    )


def _valid_head(path: str) -> bool:
    """git's validate_headref: a link into `refs/`, a symbolic ref into `refs/`, an id."""
    try:
        if os.path.islink(path):
            return os.readlink(path).startswith("refs/")
        with open(path, "rb") as f:
            data = f.read(255)
    except OSError:
        return False
    if data.startswith(b"ref:"):
        return data[4:].lstrip(b" \t\n\r").startswith(b"refs/")
    for size in (40, 64):
        if len(data) >= size and _HEX.issuperset(data[:size].decode("latin-1")):
            return True
    return False


def settle(
    found: Found, config: Mapping[str, str], valueless: Set[str] = frozenset()
) -> Worktree | None:
    """The Worktree `guess` found, given the configuration git reads there (CONFIG_KEYS, keys
    lower-case; `valueless`: those set without a value); None when that configuration means
    git must decide."""
    toplevel, gitdir, common = found
    if "core.worktree" in config:
        return None
    bare = config.get("core.bare")
    if bare is not None and git_bool(bare) is not False:
        return None
    hooks = config.get("core.hookspath")
    if hooks is None:
        hooks_dir = os.path.join(common, "hooks")
        if os.path.islink(hooks_dir):
            hooks_dir = os.path.realpath(hooks_dir)
    elif not hooks or "core.hookspath" in valueless or hooks.startswith(("~", "%(")):
        return None  # git expands these, or refuses a hooksPath without a value
    else:
        hooks_dir = os.path.realpath(os.path.join(toplevel, hooks))
    try:
        os.stat(hooks_dir)
    except OSError as err:
        if err.errno == errno.ELOOP:
            return None  # rev-parse refuses a path it cannot resolve; realpath does not
    return Worktree(toplevel, gitdir, common, hooks_dir)
