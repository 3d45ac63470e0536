"""The commit object, made by `git commit-tree` (identity, dates, encoding and signing as git
does them), and the configuration wt-commit reads once. Staging is in staging.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from worktree_tools.core.errors import InvalidInput, Rejected
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


def commit_tree(
    wt: Worktree, tree: str, parent: str | None, msg_file: Path, sign: str | None
) -> str:
    args = ["commit-tree", tree, "-F", os.fspath(msg_file)]
    if parent:
        args += ["-p", parent]
    if sign == "no":
        args.append("--no-gpg-sign")
    elif sign is not None:
        args.append(f"-S{sign}")
    res = wt.git(args, check=False)
    if res.returncode == 0:
        return res.out.strip()
    err = res.err.strip()
    if "tell me who you are" in err or "ident" in err.lower():
        raise InvalidInput(
            f"git has no usable identity: {err}",
            fix='git config user.name "NAME" && git config user.email "EMAIL"',
        )
    if "sign" in err.lower() or "gpg" in err.lower():
        raise Rejected(
            f"signing the commit failed: {err}", fix="check gpg.program and user.signingkey"
        )
    raise Rejected(f"git commit-tree failed: {err}")
