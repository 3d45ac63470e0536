"""Write many blobs with one git process, from bytes we already read.

The bytes are stored as given (no clean filter, no end-of-line conversion): callers send only
paths that git would not convert, and stage the others through git's own `add`. Up to
`LOOSE_LIMIT` blobs (a usual commit) go through `git hash-object -w --no-filters --stdin-paths`
over private copies, as loose objects; more stream into one `git fast-import`, as one pack.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from worktree_tools.core.errors import GitError
from worktree_tools.core.gitcmd import popen
from worktree_tools.core.repo import Worktree
from worktree_tools.core.scratch import remove_tree

LOOSE_LIMIT = 100  # fast-import's own fastimport.unpackLimit: below it, it unpacks too


def write_blobs(wt: Worktree, blobs: Sequence[bytes], tmp: Path) -> list[str]:
    """The object ids of `blobs`, in order, after writing them to the object store."""
    if not blobs:
        return []
    if len(blobs) <= LOOSE_LIMIT:
        return _hash_objects(wt, blobs, tmp)
    return _fast_import(wt, blobs, tmp)


def _hash_objects(wt: Worktree, blobs: Sequence[bytes], tmp: Path) -> list[str]:
    copies = tmp / "blobs"
    copies.mkdir(exist_ok=True)
    names = []
    for i, data in enumerate(blobs):
        path = copies / str(i)
        path.write_bytes(data)
        names.append(os.fsencode(path) + b"\n")
    try:
        res = wt.git(["hash-object", "-w", "--no-filters", "--stdin-paths"], input=b"".join(names))
    finally:
        remove_tree(copies)
    return res.out.split()


def _fast_import(wt: Worktree, blobs: Iterable[bytes], tmp: Path) -> list[str]:
    marks = tmp / "blob-marks"
    args = ["fast-import", "--quiet", "--done", f"--export-marks={marks}"]
    proc = popen(
        args,
        cwd=wt.toplevel,
        env=wt.env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stderr is not None
    count = 0
    try:
        for count, data in enumerate(blobs, start=1):
            proc.stdin.write(b"blob\nmark :%d\ndata %d\n" % (count, len(data)))
            proc.stdin.write(data)
            proc.stdin.write(b"\n")
        proc.stdin.write(b"done\n")
        proc.stdin.close()
    except BrokenPipeError:
        pass  # fast-import died: its stderr says why
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    err = proc.stderr.read()
    if proc.wait() != 0:
        raise GitError(args, proc.returncode, err.decode("utf-8", "replace"))
    if count == 0:
        return []
    oids = [""] * count
    for line in marks.read_text(encoding="ascii").splitlines():
        mark, oid = line.split(" ")
        oids[int(mark[1:]) - 1] = oid
    marks.unlink()
    return oids
