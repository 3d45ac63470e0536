"""The configuration wt-commit reads once, and what it decides: how a file becomes an index
entry (Settings). The commit object is core/commits', staging is staging.py.
"""

from __future__ import annotations

import os

from worktree_tools.core import discovery, ident, loose
from worktree_tools.core.gitcmd import popen
from worktree_tools.core.repo import discovery_env
from worktree_tools.core.spawn import DEVNULL, PIPE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_tools.core.repo import Worktree


# Every key wt-commit reads, lower-case as git prints them: its own, then core/discovery's (the
# worktree found without rev-parse stands), core/loose's (this process writes the objects) and
# core/ident's (the commit's author and committer, written here when git's rules give them).
KEYS = (
    "commit.cleanup",
    "commit.gpgsign",
    "core.commentchar",
    "wt.hooks",
    "core.filemode",
    "core.autocrlf",
    "core.attributesfile",
    *discovery.CONFIG_KEYS,
    *loose.CONFIG_KEYS,
    *ident.CONFIG_KEYS,
)
_CONFIG = [
    "config",
    "-z",
    "--get-regexp",
    "^(" + "|".join(key.replace(".", "\\.") for key in KEYS) + ")$",
]


class Config(dict[str, str]):
    """The values git printed, by lower-case key, and the keys it printed without a value."""

    __slots__ = ("valueless",)

    def __init__(self, values: dict[str, str], valueless: frozenset[str] = frozenset()) -> None:
        super().__init__(values)
        self.valueless = valueless


class PendingConfig:
    """Every key wt-commit reads, in one `git config`, started as soon as the worktree is known
    (or, `cwd` given instead, for git to find it from there, as it finds it for `git commit`)
    and read when first needed."""

    __slots__ = ("_proc", "_values", "succeeded", "valueless")

    def __init__(
        self, wt: Worktree | None = None, *, cwd: str | os.PathLike[str] | None = None
    ) -> None:
        self._values: Config | None = None
        self.succeeded = False  # once read: git exited 0 or 1 (no key set) and said nothing
        self.valueless: frozenset[str] = frozenset()  # keys set without a value
        if wt is not None:
            where, env = wt.toplevel_str, wt.env()
        else:  # git finds the repository, as for `git commit` (GIT_DIR/GIT_WORK_TREE honoured)
            where, env = os.fspath(cwd or "."), discovery_env()
        self._proc = popen(_CONFIG, cwd=where, env=env, stdin=DEVNULL, stdout=PIPE, stderr=PIPE)

    def read(self) -> Config:
        """The values (keys lower-cased); waits for git the first time. Exit 1 (no key set)
        is no error, as `git config --get-regexp` says it. A key set without a value
        (`[core] sharedRepository`) reads `true`, what git makes of it as a boolean, and is
        listed in `valueless` (even if set again later: git refuses such a string key where
        it reads it). A warning (a repository format git will not read: it then
        reads none of the repository's configuration) leaves `succeeded` false."""
        if self._values is None:
            with self._proc:
                stdout, stderr = self._proc.communicate()
            self.succeeded = self._proc.returncode in (0, 1) and not stderr
            out: dict[str, str] = {}
            bare = set()
            for item in (stdout or b"").decode("utf-8", "surrogateescape").split("\0"):
                if "\n" in item:
                    key, value = item.split("\n", 1)
                    out[key.lower()] = value
                elif item:
                    out[item.lower()] = "true"
                    bare.add(item.lower())
            self.valueless = frozenset(bare)
            self._values = Config(out, self.valueless)
        return self._values


def truthy(value: str) -> bool:
    return value.strip().lower() in ("true", "yes", "on", "1")


class Settings:
    """The configuration that decides how a file becomes an index entry."""

    __slots__ = ("attributes_file", "autocrlf", "filemode")

    def __init__(
        self, filemode: bool = True, autocrlf: str = "false", attributes_file: str | None = None
    ) -> None:
        self.filemode = filemode
        self.autocrlf = autocrlf
        self.attributes_file = attributes_file

    @classmethod
    def parse(cls, config: dict[str, str]) -> Settings:
        def flag(key: str, default: bool) -> bool:
            value = config.get(key)
            if value is None:
                return default
            return value.strip().lower() in ("true", "yes", "on", "1", "")

        return cls(
            filemode=flag("core.filemode", True),
            autocrlf=config.get("core.autocrlf", "false").strip().lower(),
            attributes_file=config.get("core.attributesfile"),
        )
