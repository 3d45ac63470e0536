"""Named crash and pause points for tests and the fault-injection harness.

`WT_FAULT=<point>` makes the process SIGKILL itself when it reaches that point, so tests can
prove that a crash anywhere leaves no stale lock, no half-made commit and no lost work.
`WT_FAULT_PAUSE=<point>` with `WT_FAULT_DIR=<dir>` holds the process at that point instead: it
creates `<dir>/<point>.reached` and waits (at most 300 s) for `<dir>/<point>.go`, so a test can
act inside a race window without sleeping and hoping.
"""

from __future__ import annotations

import os
import time

_TARGET = os.environ.get("WT_FAULT", "")
_PAUSE = os.environ.get("WT_FAULT_PAUSE", "")


def point(name: str) -> None:
    if _TARGET and name == _TARGET:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    if _PAUSE and name == _PAUSE:
        where = os.environ.get("WT_FAULT_DIR", "")
        if where:
            _hold(os.path.join(where, name))


def _hold(stem: str) -> None:
    with open(stem + ".reached", "w", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + 300
    while not os.path.exists(stem + ".go") and time.monotonic() < deadline:
        time.sleep(0.01)
