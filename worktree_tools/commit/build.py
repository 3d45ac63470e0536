"""The configuration wt-commit reads once, and what it decides: how a file becomes an index
entry (Settings). The commit object is core/commits', staging is staging.py.
"""

from __future__ import annotations

import os

from worktree_tools.core import discovery, ident, loose
from worktree_tools.core.fields import git_bool
from worktree_tools.core.gitcmd import popen
from worktree_tools.core.repo import discovery_env
from worktree_tools.core.spawn import DEVNULL, PIPE

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
    """The values git printed, by lower-case key; the keys it printed without a value (even if
    set again later: git refuses a string key so set where it reads it); and whether git
    succeeded: exit 0 or 1 (no key set) and no warning (a repository format git will not read:
    it then reads none of the repository's configuration)."""

    __slots__ = ("succeeded", "valueless")

    def __init__(
        self,
        values: dict[str, str],
        valueless: frozenset[str] = frozenset(),
        succeeded: bool = True,
    ) -> None:
        super().__init__(values)
        self.valueless = valueless
        self.succeeded = succeeded


class PendingConfig:
    """Every key wt-commit reads, in one `git config` run from `cwd`, where git finds the
    repository as it does for `git commit` (GIT_DIR and GIT_WORK_TREE honoured), started at
    once and read when first needed."""

    __slots__ = ("_proc", "_values")

    def __init__(self, cwd: str | os.PathLike[str]) -> None:
        self._values: Config | None = None
        self._proc = popen(
            _CONFIG, cwd=os.fspath(cwd), env=discovery_env(), stdin=DEVNULL, stdout=PIPE,
            stderr=PIPE,
        )  # fmt: skip

    def read(self) -> Config:
        """The values (keys lower-cased); waits for git the first time. A key set without a
        value (`[core] sharedRepository`) reads `true`, what git makes of it as a boolean."""
        if self._values is None:
            with self._proc:
                stdout, stderr = self._proc.communicate()
            out: dict[str, str] = {}
            bare = set()
            for item in (stdout or b"").decode("utf-8", "surrogateescape").split("\0"):
                if "\n" in item:
                    key, value = item.split("\n", 1)
                    out[key.lower()] = value
                elif item:
                    out[item.lower()] = "true"
                    bare.add(item.lower())
            ok = self._proc.returncode in (0, 1) and not stderr
            self._values = Config(out, frozenset(bare), ok)
        return self._values


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
            parsed = None if value is None else git_bool(value)
            return default if parsed is None else parsed

        return cls(
            filemode=flag("core.filemode", True),
            autocrlf=config.get("core.autocrlf", "false").strip().lower(),
            attributes_file=config.get("core.attributesfile"),
        )
