"""Where things are: one worktree, its private git dir, the common git dir, its branch."""

from __future__ import annotations

import os

from worktree_tools.core import statefiles
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.gitcmd import GitResult, clean_env, git

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def _path(location: str) -> Path:
    from pathlib import Path  # not at import time: see Worktree

    return Path(location)


# No object id is written out here: SHA-1 and SHA-256 repositories differ in both the null id
# and the empty tree, so each is derived from the repository (see null_oid, empty_tree).
NULL_MARK = "0"  # "no object" where no id is at hand; is_null() is true for it in any format

# Files git leaves in a worktree's git dir while an operation is half done.
IN_PROGRESS = {
    "rebase-merge": ("a rebase", "git rebase --continue (or git rebase --abort)"),
    "rebase-apply": ("a rebase or `git am`", "git rebase --continue or git am --continue"),
    "MERGE_HEAD": ("a merge", "git merge --continue (or git merge --abort)"),
    "CHERRY_PICK_HEAD": ("a cherry-pick", "git cherry-pick --continue (or --abort)"),
    "REVERT_HEAD": ("a revert", "git revert --continue (or --abort)"),
    "sequencer": ("a cherry-pick or revert sequence", "git cherry-pick --continue (or --abort)"),
    "BISECT_LOG": ("a bisect", "git bisect reset"),
}


class Worktree:
    """A checked-out worktree of a repository (the main one or a linked one).

    The locations are kept as str (`toplevel_str`, ...): wt-commit's hot path works with str
    and os.path and never imports pathlib (issue 17: every import is paid on every commit).
    The Path properties (`toplevel`, ...) are the same locations for everything else; the
    first use imports pathlib."""

    __slots__ = ("commondir_str", "gitdir_str", "hooks_dir_str", "toplevel_str")

    def __init__(
        self,
        toplevel: str | os.PathLike[str],
        gitdir: str | os.PathLike[str],
        commondir: str | os.PathLike[str],
        hooks_dir: str | os.PathLike[str],
    ) -> None:
        self.toplevel_str = os.fspath(toplevel)
        self.gitdir_str = os.fspath(gitdir)
        self.commondir_str = os.fspath(commondir)
        self.hooks_dir_str = os.fspath(hooks_dir)

    def _key(self) -> tuple[str, str, str, str]:
        return (self.toplevel_str, self.gitdir_str, self.commondir_str, self.hooks_dir_str)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Worktree) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Worktree(toplevel={self.toplevel_str!r}, gitdir={self.gitdir_str!r}, "
            f"commondir={self.commondir_str!r}, hooks_dir={self.hooks_dir_str!r})"
        )

    @property
    def state_dir_str(self) -> str:
        """worktree-tools' shared state: in the common git dir, seen by every worktree."""
        return os.path.join(self.commondir_str, statefiles.STATE_DIR)

    @property
    def index_str(self) -> str:
        return os.path.join(self.gitdir_str, "index")

    @property
    def toplevel(self) -> Path:
        return _path(self.toplevel_str)

    @property
    def gitdir(self) -> Path:
        return _path(self.gitdir_str)

    @property
    def commondir(self) -> Path:
        return _path(self.commondir_str)

    @property
    def hooks_dir(self) -> Path:
        return _path(self.hooks_dir_str)

    @property
    def index_path(self) -> Path:
        return _path(self.index_str)

    @property
    def state_dir(self) -> Path:
        """worktree-tools' shared state: in the common git dir, seen by every worktree."""
        return _path(self.state_dir_str)

    @property
    def is_main(self) -> bool:
        return self.gitdir_str == self.commondir_str

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for plumbing in this worktree: explicit GIT_DIR and GIT_WORK_TREE."""
        return clean_env({"GIT_DIR": self.gitdir_str, "GIT_WORK_TREE": self.toplevel_str, **extra})

    def git(
        self,
        args: list[str],
        *,
        index: str | os.PathLike[str] | None = None,
        input: bytes | None = None,
        check: bool = True,
        literal: bool = False,
    ) -> GitResult:
        extra: dict[str, str] = {}
        if index is not None:
            extra["GIT_INDEX_FILE"] = os.fspath(index)
        if literal:
            extra["GIT_LITERAL_PATHSPECS"] = "1"
        return git(args, cwd=self.toplevel_str, env=self.env(**extra), input=input, check=check)

    def head_ref(self) -> str | None:
        """The branch HEAD points at (`refs/heads/x`), or None when HEAD is detached."""
        with open(os.path.join(self.gitdir_str, "HEAD"), encoding="utf-8") as f:
            text = f.read().strip()
        if text.startswith("ref: "):
            return text[5:].strip()
        return None

    def resolve(self, ref: str) -> tuple[str, str] | None:
        """(commit, tree) of `ref`, or None when the ref does not exist (an unborn branch)."""
        res = self.git(["for-each-ref", "--format=%(objectname) %(tree)", ref])
        for line in res.out.splitlines():
            oid, tree = line.split()
            return oid, tree
        return None

    def operation_in_progress(self) -> tuple[str, str] | None:
        for name, what in IN_PROGRESS.items():
            if os.path.exists(os.path.join(self.gitdir_str, name)):
                return what
        return None

    def committable_branch(self) -> str:
        """The branch a commit here lands on (`refs/heads/x`); InvalidInput when HEAD is
        detached or a rebase, merge, cherry-pick, revert or bisect is in progress."""
        busy = self.operation_in_progress()
        if busy:
            raise InvalidInput(f"{busy[0]} is in progress in this worktree", fix=busy[1])
        ref = self.head_ref()
        if ref is None:
            raise InvalidInput(
                "HEAD is detached; wt-commit commits onto a branch",
                fix="git switch -c NEW-BRANCH (or git switch BRANCH)",
            )
        return ref


def null_oid(like: str) -> str:
    """The null id in the object format of `like` (any id of the same repository)."""
    return "0" * len(like)


def is_null(oid: str) -> bool:
    """Whether `oid` is the null id (in any object format), as hooks receive it."""
    return bool(oid) and oid.strip("0") == ""


_EMPTY_TREES: dict[str, str] = {}


def empty_tree(wt: Worktree) -> str:
    """The id of the empty tree in this repository's object format (hashed, not stored)."""
    key = wt.commondir_str
    if key not in _EMPTY_TREES:
        res = wt.git(["hash-object", "-t", "tree", "--stdin"], input=b"")
        _EMPTY_TREES[key] = res.out.strip()
    return _EMPTY_TREES[key]


def object_format(cwd: str | os.PathLike[str]) -> str:
    """`sha1` or `sha256`, as `git rev-parse --show-object-format` says."""
    res = git(["rev-parse", "--show-object-format"], cwd=cwd, env=discovery_env(), check=False)
    return res.out.strip() or "sha1"


def discover(
    cwd: str | os.PathLike[str],
    *,
    tolerate_missing_toplevel: bool = False,
    inherit_env: bool = True,
) -> Worktree:
    """The worktree containing `cwd`, as git sees it (GIT_DIR, core.hooksPath and all).

    A top level that does not exist (core.worktree leaked into the shared config) is refused,
    unless the caller is the repair tool, which then works from `cwd`. `inherit_env` False: a
    directory we know (a hook checkout, a listed worktree), found without the caller's GIT_DIR
    and GIT_WORK_TREE."""
    found = _rev_parse(cwd, discovery_env() if inherit_env else clean_env())
    if inherit_env and _ENV_REPO.intersection(os.environ):
        _refuse_foreign_env(cwd, found)
    gitdir, commondir, toplevel, hooks = found
    if not os.path.isdir(toplevel):
        if not tolerate_missing_toplevel:
            raise InvalidInput(
                f"git says this worktree is at {toplevel}, which does not exist "
                "(core.worktree in the shared config?)",
                fix="git wt doctor --fix",
            )
        toplevel = os.fspath(cwd)
    return Worktree(toplevel, gitdir, commondir, hooks)


def _rev_parse(cwd: str | os.PathLike[str], env: dict[str, str]) -> tuple[str, str, str, str]:
    res = git(
        [
            "rev-parse",
            "--path-format=absolute",
            "--git-dir",
            "--git-common-dir",
            "--show-toplevel",
            "--git-path",
            "hooks",
        ],
        cwd=cwd,
        env=env,
        check=False,
    )
    lines = res.out.splitlines()
    if res.returncode != 0 or len(lines) != 4:
        raise InvalidInput(
            f"not inside a git worktree: {cwd} ({res.err.strip() or 'no work tree'})",
            fix="cd into a worktree of the repository (git worktree list)",
        )
    gitdir, commondir, toplevel, hooks = lines
    return gitdir, commondir, toplevel, hooks


def _refuse_foreign_env(cwd: str | os.PathLike[str], found: tuple[str, str, str, str]) -> None:
    """GIT_DIR/GIT_WORK_TREE inherited from another repository (a hook of repository A runs
    an agent that works in B): git would commit B's files into A. Refuse unless the current
    directory is inside the work tree they name, and, with GIT_DIR alone (git then takes the
    current directory as the top), unless the repository found from here is that one."""
    gitdir, _common, toplevel, _hooks = found
    named = " and ".join(f"{n}={os.environ[n]}" for n in sorted(_ENV_REPO) if n in os.environ)
    fix = f"unset {' '.join(sorted(_ENV_REPO))} (inherited, e.g. from another repository's hook)"
    here = os.path.realpath(cwd)
    top = os.path.realpath(toplevel)
    if here != top and not here.startswith(top.rstrip("/") + "/"):
        raise InvalidInput(
            f"{named} in the environment names the work tree {toplevel}, and the current "
            f"directory {cwd} is not inside it; refusing to commit into that repository",
            fix=fix,
        )
    if "GIT_WORK_TREE" in os.environ:
        return
    try:
        own_gitdir = _rev_parse(cwd, clean_env())[0]
    except InvalidInput:
        own_gitdir = None
    if own_gitdir is None or os.path.realpath(own_gitdir) != os.path.realpath(gitdir):
        where = f"in the repository {own_gitdir}" if own_gitdir else "in no repository"
        raise InvalidInput(
            f"{named} in the environment names the repository {gitdir}, but the current "
            f"directory {cwd} is {where}; refusing to commit into {gitdir}",
            fix=fix,
        )


_ENV_REPO = frozenset(("GIT_DIR", "GIT_WORK_TREE"))


def discovery_env() -> dict[str, str]:
    # A user who sets GIT_DIR/GIT_WORK_TREE means it (checked by _refuse_foreign_env); an
    # inherited GIT_INDEX_FILE we ignore: the worktree's own index is the one we keep in sync.
    env = clean_env()
    for name in _ENV_REPO:
        if name in os.environ:
            env[name] = os.environ[name]
    return env
