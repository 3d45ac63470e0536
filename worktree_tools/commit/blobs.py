"""Write a commit's blobs, from bytes we already read.

The bytes are stored as given (no clean filter, no end-of-line conversion): callers send only
paths that git would not convert, and stage the others through git's own `add`. Up to
`LOOSE_LIMIT` blobs (a usual commit) are loose objects: written by this process (core/loose)
when the caller passes a writer, else by `git hash-object -w --no-filters --stdin-paths` over
private copies; more stream into one `git fast-import`, as one pack.
"""

from __future__ import annotations

import os

from worktree_tools.core.errors import GitError
from worktree_tools.core.gitcmd import popen
from worktree_tools.core.scratch import remove_tree
from worktree_tools.core.spawn import DEVNULL, PIPE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from worktree_tools.core.loose import LooseObjects
    from worktree_tools.core.repo import Worktree

LOOSE_LIMIT = 100  # fast-import's own fastimport.unpackLimit: below it, it unpacks too


def write_blobs(
    wt: Worktree,
    blobs: Sequence[bytes],
    tmp: str | os.PathLike[str],
    store: LooseObjects | None = None,
) -> list[str]:
    """The object ids of `blobs`, in order, after writing them to the object store (`store`:
    written by this process, when it takes them)."""
    if not blobs:
        return []
    if len(blobs) <= LOOSE_LIMIT:
        if store is not None and store.takes([len(b) for b in blobs]):
            return [store.write(b"blob", data) for data in blobs]
        return _hash_objects(wt, blobs, tmp)
    return _fast_import(wt, blobs, tmp)


def _hash_objects(wt: Worktree, blobs: Sequence[bytes], tmp: str | os.PathLike[str]) -> list[str]:
    copies = os.path.join(tmp, "blobs")
    try:
        os.mkdir(copies)
    except FileExistsError:
        if not os.path.isdir(copies):
            raise
    names = []
    for i, data in enumerate(blobs):
        path = os.path.join(copies, str(i))
        with open(path, "wb") as f:
            f.write(data)
        names.append(os.fsencode(path) + b"\n")
    try:
        res = wt.git(["hash-object", "-w", "--no-filters", "--stdin-paths"], input=b"".join(names))
    finally:
        remove_tree(copies)
    return res.out.split()


def _fast_import(wt: Worktree, blobs: Iterable[bytes], tmp: str | os.PathLike[str]) -> list[str]:
    marks = os.path.join(tmp, "blob-marks")
    args = ["fast-import", "--quiet", "--done", f"--export-marks={marks}"]
    proc = popen(args, cwd=wt.toplevel_str, env=wt.env(), stdin=PIPE, stdout=DEVNULL, stderr=PIPE)
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
    code = proc.wait()
    if code != 0:
        raise GitError(args, code, err.decode("utf-8", "replace"))
    if count == 0:
        return []
    oids = [""] * count
    with open(marks, encoding="ascii") as f:
        for line in f.read().splitlines():
            mark, oid = line.split(" ")
            oids[int(mark[1:]) - 1] = oid
    os.unlink(marks)
    return oids
