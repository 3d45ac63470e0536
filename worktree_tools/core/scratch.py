"""Scratch files on wt-commit's hot path, with os only: `shutil` costs every commit ~4 ms of
start-up (it loads zlib, bz2 and lzma for its archive functions), for two calls.
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

_CHUNK = 1 << 20


def remove_tree(path: Path) -> None:
    """`shutil.rmtree(path, ignore_errors=True)`: a link inside is removed, never followed."""
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            with suppress(OSError):
                os.unlink(os.path.join(root, name))
        for name in dirs:
            full = os.path.join(root, name)
            with suppress(OSError):
                if os.path.islink(full):
                    os.unlink(full)
                else:
                    os.rmdir(full)
    with suppress(OSError):
        os.rmdir(path)


def copy_file(src: Path, dst: Path) -> None:
    """`shutil.copyfile(src, dst)`: the bytes only, in the kernel where it can (sendfile)."""
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        infd, outfd = fin.fileno(), fout.fileno()
        offset = 0
        try:
            while sent := os.sendfile(outfd, infd, offset, _CHUNK):
                offset += sent
            return
        except (OSError, AttributeError):  # no file-to-file sendfile here: copy in Python
            if offset:
                raise
        while chunk := fin.read(_CHUNK):
            fout.write(chunk)
