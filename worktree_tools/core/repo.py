"""Where things are: one worktree, its private git dir, the common git dir, its branch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from worktree_tools.core import statefiles
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.gitcmd import GitResult, clean_env, git

# No object id is written out here: SHA-1 and SHA-256 repositories differ in both the null id
# and the empty tree, so each is derived from the repository (see null_oid, empty_tree).
NULL_MARK = "0"  # "no object" where no id is at hand; is_null() is true for it in any format

# Files git leaves in a worktree's git dir while an operation is half done.
IN_PROGRESS = {
    "MERGE_HEAD": ("a merge", "git merge --continue (or git merge --abort)"),
    "CHERRY_PICK_HEAD": ("a cherry-pick", "git cherry-pick --continue (or --abort)"),
    "REVERT_HEAD": ("a revert", "git revert --continue (or --abort)"),
}


@dataclass(frozen=True)
class Worktree:
    """A checked-out worktree of a repository (the main one or a linked one)."""

    toplevel: Path
    gitdir: Path
    commondir: Path
    hooks_dir: Path

    @property
    def index_path(self) -> Path:
        return self.gitdir / "index"

    @property
    def state_dir(self) -> Path:
        """worktree-tools' shared state: in the common git dir, seen by every worktree."""
        return self.commondir / statefiles.STATE_DIR

    @property
    def is_main(self) -> bool:
        return self.gitdir == self.commondir

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for plumbing in this worktree: explicit GIT_DIR and GIT_WORK_TREE."""
        return clean_env(
            {"GIT_DIR": str(self.gitdir), "GIT_WORK_TREE": str(self.toplevel), **extra}
        )

    def git(
        self,
        args: list[str],
        *,
        index: Path | None = None,
        input: bytes | None = None,
        check: bool = True,
        literal: bool = False,
    ) -> GitResult:
        extra: dict[str, str] = {}
        if index is not None:
            extra["GIT_INDEX_FILE"] = str(index)
        if literal:
            extra["GIT_LITERAL_PATHSPECS"] = "1"
        return git(args, cwd=self.toplevel, env=self.env(**extra), input=input, check=check)

    def head_ref(self) -> str | None:
        """The branch HEAD points at (`refs/heads/x`), or None when HEAD is detached."""
        text = (self.gitdir / "HEAD").read_text(encoding="utf-8").strip()
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
            if (self.gitdir / name).exists():
                return what
        return None


def null_oid(like: str) -> str:
    """The null id in the object format of `like` (any id of the same repository)."""
    return "0" * len(like)


def is_null(oid: str) -> bool:
    """Whether `oid` is the null id (in any object format), as hooks receive it."""
    return bool(oid) and oid.strip("0") == ""


_EMPTY_TREES: dict[str, str] = {}


def empty_tree(wt: Worktree) -> str:
    """The id of the empty tree in this repository's object format (hashed, not stored)."""
    key = str(wt.commondir)
    if key not in _EMPTY_TREES:
        res = wt.git(["hash-object", "-t", "tree", "--stdin"], input=b"")
        _EMPTY_TREES[key] = res.out.strip()
    return _EMPTY_TREES[key]


def object_format(cwd: Path) -> str:
    """`sha1` or `sha256`, as `git rev-parse --show-object-format` says."""
    res = git(["rev-parse", "--show-object-format"], cwd=cwd, env=_discovery_env(), check=False)
    return res.out.strip() or "sha1"


def discover(cwd: Path, *, tolerate_missing_toplevel: bool = False) -> Worktree:
    """The worktree containing `cwd`, as git sees it (GIT_DIR, core.hooksPath and all).

    A top level that does not exist (core.worktree leaked into the shared config) is refused,
    unless the caller is the repair tool, which then works from `cwd`."""
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
        env=_discovery_env(),
        check=False,
    )
    lines = res.out.splitlines()
    if res.returncode != 0 or len(lines) != 4:
        raise InvalidInput(
            f"not inside a git worktree: {cwd} ({res.err.strip() or 'no work tree'})",
            fix="cd into a worktree of the repository (git worktree list)",
        )
    gitdir, commondir, toplevel, hooks = (Path(line) for line in lines)
    if not toplevel.is_dir():
        if not tolerate_missing_toplevel:
            raise InvalidInput(
                f"git says this worktree is at {toplevel}, which does not exist "
                "(core.worktree in the shared config?)",
                fix="git wt doctor --fix",
            )
        toplevel = cwd
    return Worktree(toplevel=toplevel, gitdir=gitdir, commondir=commondir, hooks_dir=hooks)


def _discovery_env() -> dict[str, str]:
    # A user who sets GIT_DIR/GIT_WORK_TREE means it; an inherited GIT_INDEX_FILE we ignore,
    # because the worktree's own index is the one we keep in sync.
    import os

    env = clean_env()
    for name in ("GIT_DIR", "GIT_WORK_TREE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env
