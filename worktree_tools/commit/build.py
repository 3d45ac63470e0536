"""The commit object, made by `git commit-tree` (identity, dates, encoding and signing as git
does them), and the configuration wt-commit reads once. Staging is in staging.py.
"""

from __future__ import annotations

from worktree_tools.core.repo import Worktree


def read_config(wt: Worktree) -> dict[str, str]:
    res = wt.git(
        [
            "config",
            "-z",
            "--get-regexp",
            r"^(commit\.cleanup|commit\.gpgsign|core\.commentchar|wt\.hooks"
            r"|core\.filemode|core\.autocrlf|core\.attributesfile)$",
        ],
        check=False,
    )
    out: dict[str, str] = {}
    for item in res.out.split("\0"):
        if "\n" in item:
            key, value = item.split("\n", 1)
            out[key.lower()] = value
    return out


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
