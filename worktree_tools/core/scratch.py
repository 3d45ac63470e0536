"""Scratch directories on wt-commit's hot path, removed with os only: `shutil` costs every
commit ~4 ms of start-up (it loads zlib, bz2 and lzma for its archive functions). Copies go
through core.atomic.copy_file.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike


def remove_tree(path: str | PathLike[str]) -> None:
    """`shutil.rmtree(path, ignore_errors=True)`: a link inside is removed, never followed."""
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            try:
                os.unlink(os.path.join(root, name))
            except OSError:
                continue
        for name in dirs:
            full = os.path.join(root, name)
            try:
                if os.path.islink(full):
                    os.unlink(full)
                else:
                    os.rmdir(full)
            except OSError:
                continue
    try:
        os.rmdir(path)
    except OSError:
        return
