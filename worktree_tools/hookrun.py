"""Run a repository hook as `git commit` would: from the top of the worktree, stdin closed,
its output sent to our stderr (and kept, so a failure can be reported)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

KEEP_OUTPUT_BYTES = 64 * 1024


@dataclass(frozen=True)
class HookRun:
    name: str
    returncode: int
    output: str


def find(hooks_dir: Path, name: str) -> Path | None:
    path = hooks_dir / name
    if path.is_file() and os.access(path, os.X_OK):
        return path
    return None


def run(
    hooks_dir: Path, name: str, args: list[str], *, cwd: Path, env: Mapping[str, str]
) -> HookRun | None:
    """Run hook `name` if it exists and is executable; None when there is no such hook."""
    path = find(hooks_dir, name)
    if path is None:
        return None
    proc = subprocess.Popen(
        [os.fspath(path), *args],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    out = proc.stdout
    kept = bytearray()
    sink = sys.stderr.buffer
    while chunk := os.read(out.fileno(), 65536):
        sink.write(chunk)
        sink.flush()
        kept += chunk
        if len(kept) > KEEP_OUTPUT_BYTES:
            del kept[: len(kept) - KEEP_OUTPUT_BYTES]
    returncode = proc.wait()
    return HookRun(name, returncode, kept.decode("utf-8", "replace"))
