"""The one commit builder: `git commit-tree`, with one failure policy.

wt-commit's commits, a push's replayed commit, lease records and rescue commits are all made
here. No identity: InvalidInput naming the config to set (exit 2); signing failed, or git refused
otherwise: Rejected (exit 6).

Given `here` (wt-commit's hot path), an unsigned commit whose identity git's rules give without
asking anyone (core/ident) is written by this process as a loose object (core/loose), the bytes
commit-tree would write, and no git process runs; anything else goes to commit-tree as before.

On wt-commit's hot path: no pygit2, no psutil.
"""

from __future__ import annotations

import os

from worktree_tools.core.errors import InvalidInput, Rejected
from worktree_tools.core.gitcmd import git

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence, Set

    from worktree_tools.core.loose import LooseObjects
    from worktree_tools.core.repo import Worktree

NO_SIGN = "no"  # `sign`: --no-gpg-sign
DEFAULT_KEY = ""  # `sign`: -S, the default key


class Here:
    """What writing a commit in this process takes: the object store, and the configuration
    git would read its identity from (PendingConfig's values and its keys without a value)."""

    __slots__ = ("config", "store", "valueless")

    def __init__(self, store: LooseObjects, config: Mapping[str, str], valueless: Set[str]) -> None:
        self.store = store
        self.config = config
        self.valueless = valueless

    def commit(self, tree: str, parents: Sequence[str | None], message: bytes) -> str | None:
        """The id of the commit written here, or None when git must make it."""
        from worktree_tools.core import ident

        if b"\0" in message:
            return None  # git refuses it ("a NUL byte in commit log message not allowed")
        who = ident.lines(self.config, self.valueless)
        if who is None:
            return None
        head = b"tree %s\n" % tree.encode("ascii")
        for parent in parents:
            if parent:
                head += b"parent %s\n" % parent.encode("ascii")
        content = head + b"author " + who[0] + b"\ncommitter " + who[1] + b"\n\n" + message
        if not ident.valid_utf8(content):
            return None  # git would rewrite it as Latin-1, with a warning
        return self.store.write(b"commit", content)


def build(
    wt: Worktree,
    tree: str,
    parents: Sequence[str | None],
    message: bytes | str | os.PathLike[str],
    *,
    sign: str | None = None,
    env: Mapping[str, str] | None = None,
    here: Here | None = None,
) -> str:
    """A commit of `tree` on `parents` (None entries skipped); its id.

    `message`: the text (bytes), or a file holding it (its path). `sign`: None leaves it to
    git's config, NO_SIGN never signs, DEFAULT_KEY signs with the default key, anything else
    is a key id.
    `env`: extra environment (an identity: GIT_AUTHOR_NAME...). `here`: write it in this
    process when it can (see the module's docstring)."""
    if here is not None and sign in (None, NO_SIGN) and not env:
        if not isinstance(message, bytes):
            with open(message, "rb") as f:
                message = f.read()
        made = here.commit(tree, parents, message)
        if made is not None:
            return made
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
