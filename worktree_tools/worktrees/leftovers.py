"""Directories gc renamed aside (`.<name>.wt-gc-<pid>`) and did not finish removing.

Before gc renames a worktree aside it writes a marker, `<state>/gc-aside/<name>.json`, naming
the aside and original paths, the agent, the gc process and the tree its rescue saved; the
marker goes when the directory is gone. A gc killed in between, or one that met a process still
writing there, leaves both: the next gc puts the directory back (or saves and removes what is
in it), and `doctor` and `watch` report it. Directories named like an aside but without a
marker (left by an older gc) are found by name next to the worktrees and reported too.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from worktree_tools.core.procs import HOST, alive, start_time
from worktree_tools.core.statefiles import GC_MARKERS as MARKERS
from worktree_tools.worktrees import records

ASIDE = re.compile(r"^\.(?P<name>.+)\.wt-gc-(?P<pid>\d+)$")


def aside_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.wt-gc-{os.getpid()}")


@dataclass(frozen=True)
class Marker:
    aside: str
    path: str
    agent: str
    admin_dir: str | None
    pid: int
    started: float | None
    host: str
    phase: str  # "aside": renamed, nothing deleted yet; "deleting": verified deletion began
    head: str | None = None  # what the rescue saved: its HEAD and working-tree snapshot
    saved_tree: str | None = None
    rescue: str | None = None
    created: str = ""

    @classmethod
    def new(cls, aside: Path, path: Path, agent: str, admin_dir: str | None, **kw: Any) -> Marker:
        return cls(
            os.fspath(aside), os.fspath(path), agent, admin_dir, os.getpid(),
            start_time(os.getpid()), HOST, "aside", created=records.now_iso(), **kw,
        )  # fmt: skip

    @classmethod
    def parse(cls, data: Any) -> Marker:
        """Validate a decoded marker; ValueError when it is not one."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")

        def text(key: str, optional: bool = False) -> Any:
            value = data.get(key)
            if value is None and optional:
                return None
            if not isinstance(value, str):
                raise ValueError(f"{key} is not a string")
            return value

        pid = data.get("pid")
        started = data.get("started")
        if isinstance(pid, bool) or not isinstance(pid, int):
            raise ValueError("pid is not an integer")
        if started is not None and not isinstance(started, (int, float)):
            raise ValueError("started is not a number")
        phase = text("phase")
        if phase not in ("aside", "deleting"):
            raise ValueError(f"unknown phase {phase!r}")
        return cls(
            text("aside"), text("path"), text("agent"), text("admin_dir", True), pid,
            None if started is None else float(started), text("host"), phase,
            text("head", True), text("saved_tree", True), text("rescue", True),
            text("created", True) or "",
        )  # fmt: skip

    @property
    def file_name(self) -> str:
        return Path(self.aside).name.lstrip(".") + ".json"

    def gc_alive(self) -> bool:
        return alive(self.pid, self.started, host=self.host)

    def plausible(self) -> bool:
        """Whether the marker names what gc itself would have: `.NAME.wt-gc-PID` beside NAME
        (a marker naming any other directory is not acted on)."""
        aside, path = Path(self.aside), Path(self.path)
        match = ASIDE.match(aside.name)
        return (
            match is not None
            and aside.is_absolute()
            and aside.parent == path.parent
            and match["name"] == path.name
            and int(match["pid"]) == self.pid
        )

    def with_phase(self, phase: str) -> Marker:
        return replace(self, phase=phase)


def write(state_dir: Path, marker: Marker) -> None:
    records.atomic_write_json(state_dir / MARKERS / marker.file_name, asdict(marker))


def clear(state_dir: Path, marker: Marker) -> None:
    (state_dir / MARKERS / marker.file_name).unlink(missing_ok=True)


def corrupt(state_dir: Path) -> list[tuple[str, str]]:
    """(marker file, message) for markers that cannot be read or that name what gc would
    never rename aside: nothing is done with those."""
    found, bad = _read_all(state_dir)
    return bad + [
        (
            os.fspath(path),
            f"gc marker {path} names {m.aside}, which gc never renames aside; nothing was "
            f"done with it: inspect, then remove {path}",
        )
        for path, m in found
        if not m.plausible() or path.name != m.file_name
    ]


def load_all(state_dir: Path) -> tuple[list[Marker], list[tuple[str, str]]]:
    """Every readable marker, and (file, message) for each that is not (left in place)."""
    found, bad = _read_all(state_dir)
    return [m for _path, m in found], bad


def _read_all(state_dir: Path) -> tuple[list[tuple[Path, Marker]], list[tuple[str, str]]]:
    good: list[tuple[Path, Marker]] = []
    bad: list[tuple[str, str]] = []
    try:
        files = sorted((state_dir / MARKERS).glob("*.json"))
    except OSError:
        return good, bad
    for path in files:
        try:
            good.append((path, Marker.parse(json.loads(path.read_bytes().decode("utf-8")))))
        except (OSError, ValueError) as exc:
            message = f"gc marker {path} is unreadable ({exc}); inspect it, then move it away"
            bad.append((os.fspath(path), message))
    return good, bad


@dataclass(frozen=True)
class Leftover:
    """A directory a gc renamed aside and did not finish removing."""

    aside: Path
    path: Path
    pid: int
    agent: str | None
    marker: Marker | None

    def to_json(self) -> dict[str, Any]:
        return {
            "aside": os.fspath(self.aside),
            "worktree": os.fspath(self.path),
            "agent": self.agent,
            "gc_pid": self.pid,
            "rescue": self.marker.rescue if self.marker else None,
            "fix": "git wt gc",
        }


def find(state_dir: Path, near: list[Path]) -> list[Leftover]:
    """Leftovers of gc runs that are no longer running (read-only): those with a marker, and
    directories named like an aside in the directories `near` (where worktrees live)."""
    found, _bad = _read_all(state_dir)
    out: list[Leftover] = []
    seen: set[str] = set()
    for path, m in found:
        if not m.plausible() or path.name != m.file_name:
            continue
        seen.add(os.path.normpath(m.aside))
        if m.gc_alive() or not os.path.isdir(m.aside):
            continue
        out.append(Leftover(Path(m.aside), Path(m.path), m.pid, m.agent, m))
    for parent in sorted({os.path.normpath(p) for p in near}):
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        for name in sorted(names):
            match = ASIDE.match(name)
            full = os.path.join(parent, name)
            if match is None or full in seen or not os.path.isdir(full):
                continue
            pid = int(match["pid"])
            if alive(pid):
                continue  # a gc working on it right now (or a reused pid: seen next time)
            path = Path(parent) / match["name"]
            out.append(Leftover(Path(full), path, pid, None, None))
    return out


def places(state_dir: Path, extra: list[Path]) -> list[Path]:
    """Where worktrees live: next to every recorded and registered one, and the default
    placement directory."""
    found = [*extra]
    recs, _bad = records.load_all(state_dir)
    found += [Path(r.path).parent for r in recs]
    return found
