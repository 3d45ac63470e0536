"""The configuration wt-commit reads once, and what it decides: how a file becomes an index
entry (Settings). The commit object is core/commits', staging is staging.py.
"""

from __future__ import annotations

from worktree_tools.core import discovery, loose
from worktree_tools.core.gitcmd import popen
from worktree_tools.core.spawn import DEVNULL, PIPE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_tools.core.repo import Worktree


# Every key wt-commit reads, lower-case as git prints them: its own, then core/discovery's (the
# worktree found without rev-parse stands) and core/loose's (this process writes the objects).
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
)
_CONFIG = [
    "config",
    "-z",
    "--get-regexp",
    "^(" + "|".join(key.replace(".", "\\.") for key in KEYS) + ")$",
]


class PendingConfig:
    """Every key wt-commit reads, in one `git config`, started as soon as the worktree is known
    and read when first needed: git looks the keys up while wt-commit checks the paths and the
    branch (one process fewer on the critical path of a commit's wall time)."""

    __slots__ = ("_proc", "_values", "succeeded")

    def __init__(self, wt: Worktree) -> None:
        self._values: dict[str, str] | None = None
        self.succeeded = False  # once read: git exited 0 or 1 (no key set)
        self._proc = popen(
            _CONFIG, cwd=wt.toplevel_str, env=wt.env(), stdin=DEVNULL, stdout=PIPE, stderr=PIPE
        )

    def read(self) -> dict[str, str]:
        """The values (keys lower-cased); waits for git the first time. Exit 1 (no key set)
        is no error, as `git config --get-regexp` says it. A key set without a value
        (`[core] sharedRepository`) reads `true`, what git makes of it as a boolean."""
        if self._values is None:
            with self._proc:
                stdout, _stderr = self._proc.communicate()
            self.succeeded = self._proc.returncode in (0, 1)
            out: dict[str, str] = {}
            for item in (stdout or b"").decode("utf-8", "surrogateescape").split("\0"):
                if "\n" in item:
                    key, value = item.split("\n", 1)
                    out[key.lower()] = value
                elif item:
                    out[item.lower()] = "true"
            self._values = out
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
