"""Write many blobs with one git process (`git fast-import`), from bytes we already read.

fast-import stores the bytes as given (no clean filter, no end-of-line conversion): callers send
only paths that git would not convert, and stage the others through git's own `add`. A blob whose
object already exists is not written twice; fewer than `fastimport.unpackLimit` (100) objects end
up loose, more in one pack.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path

from worktree_tools.core.errors import GitError
from worktree_tools.core.gitcmd import popen
from worktree_tools.core.repo import Worktree


def write_blobs(wt: Worktree, blobs: Iterable[bytes], tmp: Path) -> list[str]:
    """The object ids of `blobs`, in order, after writing them to the object store."""
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
