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
    top = os.fspath(wt.toplevel)
    prefix = ""
    base = top
    if cwd is not None:
        here = os.path.normpath(os.fspath(cwd))
        if here == top or here.startswith(top.rstrip("/") + "/"):
            base = here
        else:
            prefix = f"cd {shlex.quote(top)} && "
    else:
        prefix = f"cd {shlex.quote(top)} && "
    shown = [os.path.relpath(os.path.join(top, r), base) for r in rels]
    if message_file:
        msg = f"-F {shlex.quote(message_file)}"
    elif messages:
        msg = " ".join(f"-m {shlex.quote(m)}" for m in messages)
    else:
        msg = "-m MESSAGE"
    return f"{prefix}wt-commit {msg} -- " + " ".join(shlex.quote(p) for p in shown)


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
