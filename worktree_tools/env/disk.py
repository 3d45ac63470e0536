"""Disk use of worktrees: measured without following links, cached so `list` stays fast.

A worktree's use is the blocks its files occupy (`st_blocks`), each hard-linked inode counted
once per worktree; `shared_bytes` is the part in files with other hard links (a `link`-mode
`node_modules` shared with the main worktree). Measurements are cached in
`<common git dir>/wt/env/disk.json` for `wt.disk.cacheTtl` seconds (default 300).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core import times
from worktree_tools.core.statefiles import DISK_CACHE as CACHE_FILE
from worktree_tools.worktrees.records import atomic_write_json

DEFAULT_TTL = 300.0
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


@dataclass(frozen=True)
class Usage:
    bytes: int
    shared_bytes: int
    files: int
    measured_epoch: float

    @classmethod
    def parse(cls, data: Any) -> Usage | None:
        if not isinstance(data, dict):
            return None
        try:
            values = [data["bytes"], data["shared_bytes"], data["files"]]
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
                return None
            return cls(values[0], values[1], values[2], float(data["measured_epoch"]))
        except (KeyError, TypeError, ValueError):
            return None

    def to_json(self) -> dict[str, Any]:
        return {
            "disk_bytes": self.bytes,
            "disk_shared_bytes": self.shared_bytes,
            "disk_files": self.files,
            "disk_measured_at": times.iso(self.measured_epoch),
            "disk_measured_epoch": round(self.measured_epoch, 3),
        }


def measure(root: Path) -> Usage:
    """Walk `root` without following links (a link counts as itself)."""
    total = shared = files = 0
    seen: set[tuple[int, int]] = set()
    stack = [os.fspath(root)]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                stack.append(entry.path)
                total += info.st_blocks * 512
                continue
            if info.st_nlink > 1:
                key = (info.st_dev, info.st_ino)
                if key in seen:
                    continue
                seen.add(key)
                shared += info.st_blocks * 512
            total += info.st_blocks * 512
            files += 1
    return Usage(total, shared, files, time.time())


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a cache: unreadable means measure again
    return data if isinstance(data, dict) else {}


def usage(
    state_dir: Path, paths: Iterable[str], ttl: float = DEFAULT_TTL, *, write: bool = True
) -> dict[str, Usage]:
    """Disk use of each existing path, from the cache when younger than `ttl`."""
    cache_path = state_dir / CACHE_FILE
    cache = _load(cache_path)
    now = time.time()
    out: dict[str, Usage] = {}
    changed = False
    for path in paths:
        if not os.path.isdir(path):
            continue
        cached = Usage.parse(cache.get(path))
        if cached is not None and 0 <= now - cached.measured_epoch < ttl:
            out[path] = cached
            continue
        out[path] = measure(Path(path))
        cache[path] = {
            "bytes": out[path].bytes,
            "shared_bytes": out[path].shared_bytes,
            "files": out[path].files,
            "measured_epoch": out[path].measured_epoch,
        }
        changed = True
    if changed and write:
        live = {k: v for k, v in cache.items() if isinstance(k, str) and os.path.isdir(k)}
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
            atomic_write_json(cache_path, live)
    return out


def ttl_of(raw: str | None) -> float:
    """`wt.disk.cacheTtl`; a bad value falls back to the default (it only tunes a cache)."""
    try:
        value = float(raw) if raw else DEFAULT_TTL
    except ValueError:
        return DEFAULT_TTL
    return value if math.isfinite(value) and value >= 0 else DEFAULT_TTL


def parse_size(raw: str, key: str) -> int:
    """`500M`, `20G`, `1048576` -> bytes."""
    from worktree_tools.core.errors import InvalidInput

    text = raw.strip().lower().removesuffix("b").removesuffix("i")
    unit = text[-1:] if text[-1:] in _UNITS and text[-1:] else ""
    try:
        value = float(text[: len(text) - len(unit)] if unit else text)
    except ValueError:
        value = -1
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(
            f"{key} = {raw!r} is not a size such as 500M or 20G", fix=f"git config {key} 20G"
        )
    return int(value * _UNITS[unit])


def human(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{n}B"
