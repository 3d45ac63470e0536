"""The one commit builder: `git commit-tree`, with one failure policy.

wt-commit's commits, a push's replayed commit, lease records and rescue commits are all made
here. No identity: InvalidInput naming the config to set (exit 2); signing failed, or git refused
otherwise: Rejected (exit 6).

On wt-commit's hot path: no pygit2, no psutil.
"""

from __future__ import annotations

import os

from worktree_tools.core.errors import InvalidInput, Rejected
from worktree_tools.core.gitcmd import git

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from worktree_tools.core.repo import Worktree

NO_SIGN = "no"  # `sign`: --no-gpg-sign
DEFAULT_KEY = ""  # `sign`: -S, the default key


def build(
    wt: Worktree,
    tree: str,
    parents: Sequence[str | None],
    message: bytes | str | os.PathLike[str],
    *,
    sign: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """A commit of `tree` on `parents` (None entries skipped); its id.

    `message`: the text (bytes), or a file holding it (its path). `sign`: None leaves it to
    git's config, NO_SIGN never signs, DEFAULT_KEY signs with the default key, anything else
    is a key id.
    `env`: extra environment (an identity: GIT_AUTHOR_NAME...)."""
    args = ["commit-tree", tree]
    for parent in parents:
        if parent:
            args += ["-p", parent]
    data: bytes | None = None
    if isinstance(message, bytes):
        args += ["-F", "-"]
        data = message
    else:
        args += ["-F", os.fspath(message)]
    if sign == NO_SIGN:
        args.append("--no-gpg-sign")
    elif sign is not None:
        args.append(f"-S{sign}")
    res = git(args, cwd=wt.toplevel_str, env=wt.env(**(env or {})), input=data, check=False)
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
