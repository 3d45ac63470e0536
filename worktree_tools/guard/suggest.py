"""The complete wt-commit command a refusal prints: this worktree's actual changed paths.

Used by the guard's refusals and by wt-commit's own refusals of a missing or whole-tree path, so
an agent can run the fix as it stands instead of filling in a template.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from worktree_tools.core.errors import WtError
from worktree_tools.core.repo import Worktree


def changed_paths(wt: Worktree) -> list[str]:
    """Staged and modified tracked paths (toplevel-relative, sorted); untracked files are left
    out on purpose: they are often build output, and naming them is the agent's call."""
    res = wt.git(["diff", "--name-only", "--no-renames", "-z", "HEAD", "--"], check=False)
    raw = res.stdout
    if res.returncode != 0:  # unborn branch: everything in the index is new
        raw = wt.git(["diff", "--cached", "--name-only", "--no-renames", "-z"], check=False).stdout
        raw += wt.git(["ls-files", "-m", "-z"], check=False).stdout
    return sorted({os.fsdecode(p) for p in raw.split(b"\0") if p})


def commit_command(
    wt: Worktree,
    *,
    messages: tuple[str, ...] | list[str] = (),
    message_file: str | None = None,
    cwd: Path | None = None,
    paths: list[str] | None = None,
) -> str | None:
    """`wt-commit -m MSG -- PATH...` for this worktree's changes, runnable from `cwd` (else
    prefixed with a `cd` to the worktree); None when nothing is changed."""
    rels = changed_paths(wt) if paths is None else paths
    if not rels:
        return None
    if message_file:
        return command_for(wt.toplevel, cwd, rels, [], [], message_file=message_file)
    return command_for(wt.toplevel, cwd, rels, list(messages) or ["MESSAGE"], [])


def command_for(
    top: Path | None,
    cwd: Path | None,
    paths: list[str],
    messages: list[str],
    flags: list[str],
    *,
    keep: bool = False,
    message_file: str | None = None,
) -> str:
    """The wt-commit command line. `paths` are relative to `top` (shown relative to `cwd`, or
    after a `cd` to `top` when `cwd` is elsewhere), or, with `keep`, already as the caller
    wrote them in `cwd`."""
    prefix = ""
    shown = list(paths)
    if not keep and top is not None:
        root = os.fspath(top)
        here = os.path.normpath(os.fspath(cwd)) if cwd is not None else None
        if here is not None and (here == root or here.startswith(root.rstrip("/") + "/")):
            shown = [os.path.relpath(os.path.join(root, p), here) for p in paths]
        else:
            prefix = f"cd {shlex.quote(root)} && "
    msg = ["-F", message_file] if message_file else [p for m in messages for p in ("-m", m)]
    words = ["wt-commit", *msg, *flags, "--", *(shown or ["PATH..."])]
    return prefix + " ".join(w if w == "PATH..." else shlex.quote(w) for w in words)


def suggest_fix(
    err: WtError, wt: Worktree, messages: tuple[str, ...], message_file: str | None, cwd: Path
) -> None:
    """Give a missing/whole-tree path refusal the command to run: this worktree's changed
    paths, the caller's message, relative to the caller's directory."""
    rels = changed_paths(wt)
    err.details["changed_paths"] = rels
    command = commit_command(wt, messages=messages, message_file=message_file, cwd=cwd, paths=rels)
    if command is not None:
        err.fix = command
    else:
        err.fix = "nothing is changed in this worktree (git status); there is nothing to commit"


def without_hints(git_stderr: str) -> str:
    """git's message without its `hint:` lines: "use -f" names an option wt-commit lacks."""
    kept = [ln for ln in git_stderr.splitlines() if not ln.startswith("hint:")]
    return "\n".join(kept).strip()
