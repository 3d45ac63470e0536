"""Scratch directories on wt-commit's hot path, removed with os only: `shutil` costs every
commit ~4 ms of start-up (it loads zlib, bz2 and lzma for its archive functions). Copies go
through core.atomic.copy_file.
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path


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
