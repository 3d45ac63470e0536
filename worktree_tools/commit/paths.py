"""Turn the paths an agent names into repository-relative paths, refusing anything unsafe.

Paths are literal (no globs, no pathspec magic), relative to the caller's directory, and must
stay inside the worktree without passing through a symbolic link or into `.git`.
"""

from __future__ import annotations

import os
import stat

from worktree_tools.core.errors import PathRefused

WHOLE_TREE_FLAG = "--commit-whole-tree"


def normalize(
    raw_paths: list[str],
    *,
    cwd: str | os.PathLike[str],
    toplevel: str | os.PathLike[str],
    whole_tree: bool,
) -> list[str]:
    """Validated, de-duplicated repo-relative paths (posix, '.' for the whole tree)."""
    if not raw_paths:
        raise PathRefused(
            "no paths given: wt-commit commits only the paths you name",
            fix="wt-commit -m MSG -- PATH...",
            kind="no_paths",
        )
    out: list[str] = []
    seen: set[str] = set()
    for raw in raw_paths:
        rel = _one(raw, cwd=cwd, toplevel=toplevel, whole_tree=whole_tree)
        if rel not in seen:
            seen.add(rel)
            out.append(rel)
    return out


def _one(
    raw: str, *, cwd: str | os.PathLike[str], toplevel: str | os.PathLike[str], whole_tree: bool
) -> str:
    if raw == "":
        raise PathRefused("an empty path was given")
    if "\0" in raw:
        raise PathRefused(f"path contains a NUL byte: {raw!r}")
    if raw.startswith(":"):
        raise PathRefused(
            f"pathspec magic is not accepted: {raw!r}; paths are literal",
            fix=f"for a file whose name starts with a colon, write ./{raw}",
        )
    absolute = os.path.normpath(os.path.join(os.fspath(cwd), raw))
    top = os.fspath(toplevel)
    if absolute == top:
        if whole_tree:
            return "."
        raise PathRefused(
            f"{raw!r} names the whole worktree; name the paths you changed",
            fix=f"name paths explicitly, or opt in with {WHOLE_TREE_FLAG}",
            kind="whole_tree",
        )
    if not absolute.startswith(top.rstrip("/") + "/"):
        raise PathRefused(f"path is outside the worktree {top}: {raw!r}")
    rel = absolute[len(top.rstrip("/")) + 1 :]
    parts = rel.split("/")
    for part in parts:
        if part.lower() == ".git":
            raise PathRefused(f"path is inside .git: {raw!r}")
    # Every directory on the way must be a real directory: a path "beyond a symbolic link"
    # may lead outside the worktree, and git would refuse to track it anyway.
    walked = top
    for part in parts[:-1]:
        walked = os.path.join(walked, part)
        try:
            st = os.lstat(walked)
        except FileNotFoundError:
            break
        if stat.S_ISLNK(st.st_mode):
            raise PathRefused(
                f"path goes through a symbolic link ({os.path.relpath(walked, top)}): {raw!r}"
            )
        if not stat.S_ISDIR(st.st_mode):
            break
    return rel
