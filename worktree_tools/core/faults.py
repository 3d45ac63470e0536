"""Named crash points for tests and the fault-injection harness.

`WT_FAULT=<point>` makes the process SIGKILL itself when it reaches that point, so tests can
prove that a crash anywhere leaves no stale lock, no half-made commit and no lost work.
"""

from __future__ import annotations

import os
import signal

_TARGET = os.environ.get("WT_FAULT", "")


def point(name: str) -> None:
    if _TARGET and name == _TARGET:
        os.kill(os.getpid(), signal.SIGKILL)
