"""The repository's commit identity as the fleet found it, and what changed since.

A repository-local `user.name`/`user.email` is the usual setup and no finding. What matters
is a change after the fleet began: one agent's command (a hook, a script) rewriting the shared
identity makes every other worktree commit under it. So the first `git wt alloc` records the
values the shared config had (`<common git dir>/wt/identity-baseline.json`, written once);
doctor and watch report a key only when it differs from that record, and name the command the
event log shows last before the config file was written.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core import atomic, events, fields, times
from worktree_tools.core.repo import Worktree
from worktree_tools.core.statefiles import IDENTITY_BASELINE as BASELINE

KEYS = ("user.name", "user.email")


@dataclass(frozen=True)
class Baseline:
    values: dict[str, str | None]
    recorded_at: str
    recorded_epoch: float

    @classmethod
    def parse(cls, raw: bytes) -> Baseline:
        data = fields.obj(fields.loads(raw))
        values = fields.obj(data.get("values"), "'values'")
        return cls(
            values={k: fields.opt_text(values, k) for k in KEYS},
            recorded_at=fields.text(data, "recorded_at"),
            recorded_epoch=fields.number(data, "recorded_epoch"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "recorded_at": self.recorded_at,
            "recorded_epoch": self.recorded_epoch,
        }


def current(wt: Worktree) -> dict[str, str | None]:
    """The identity keys in the shared config file (not the user's global one)."""
    common = os.fspath(wt.commondir / "config")
    out: dict[str, str | None] = {}
    for key in KEYS:
        res = wt.git(["config", "--file", common, "--get", key], check=False)
        out[key] = res.out.rstrip("\n") if res.returncode == 0 else None
    return out


def baseline_path(wt: Worktree) -> Path:
    return wt.state_dir / BASELINE


def record_baseline(wt: Worktree) -> None:
    """Record the identity the fleet starts with, once: a later call leaves it as it is."""
    path = baseline_path(wt)
    if path.exists() or path.is_symlink():
        return
    now = time.time()
    base = Baseline(current(wt), times.iso(now), now)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(base.to_json(), indent=2) + "\n", encoding="utf-8")
    try:
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.link(tmp, path)  # the first allocation wins; never replaces a record
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def load_baseline(wt: Worktree) -> Baseline | None:
    when = "remove it; the next `git wt alloc` records the identity anew"
    return atomic.read_state(baseline_path(wt), Baseline.parse, when)


@dataclass(frozen=True)
class Change:
    key: str
    before: str | None
    now: str | None
    suspect: dict[str, Any] | None  # the last logged command before the config was written

    def detail(self, baseline: Baseline) -> str:
        text = (
            f"{self.key} changed after the fleet began (recorded {baseline.recorded_at}): "
            f"{self.before!r} -> {self.now!r}; every worktree now commits as it"
        )
        if self.suspect is not None:
            s = self.suspect
            where = s.get("worktree") or s.get("branch") or "?"
            text += (
                f"; the config was written at {s['config_written_at']}, {s['relation']} "
                f"{s['agent']}'s `{s['action']}` in {where} ({s['ts']})"
            )
        return text


def changes(wt: Worktree) -> tuple[Baseline | None, list[Change]]:
    """The identity keys that differ from the baseline (none without a baseline)."""
    baseline = load_baseline(wt)
    if baseline is None:
        return None, []
    now = current(wt)
    changed = [k for k in KEYS if now[k] != baseline.values.get(k)]
    if not changed:
        return baseline, []
    suspect = _suspect(wt, baseline)
    return baseline, [Change(k, baseline.values.get(k), now[k], suspect) for k in changed]


def _suspect(wt: Worktree, baseline: Baseline) -> dict[str, Any] | None:
    """Who wrote the shared config, as far as the event log can tell: the logged command that
    was running when the file was last written (an event's `duration_ms` before its `ts`),
    else the last command logged before that write (`relation` says which)."""
    try:
        written = (wt.commondir / "config").stat().st_mtime
    except OSError:
        return None
    during: dict[str, Any] | None = None
    before: dict[str, Any] | None = None
    for event in events.read(wt.state_dir):
        if "corrupt" in event:
            continue
        try:
            end = times.parse(event["ts"])
        except ValueError:
            continue
        took = event.get("duration_ms")
        ok = isinstance(took, (int, float)) and not isinstance(took, bool) and 0 <= took < 1e9
        start = end - (float(took) / 1000 if ok and took is not None else 0.0)
        if start < baseline.recorded_epoch:
            continue
        if ok and start - _SLACK <= written <= end + _SLACK:
            during = event
        elif end <= written:
            before = event
    chosen, relation = (during, "during") if during is not None else (before, "after")
    if chosen is None:
        return None
    return {
        "relation": relation,
        "agent": chosen["agent"],
        "action": chosen["action"],
        "ts": times.normal(_opt(chosen, "ts")),
        "worktree": _opt(chosen, "worktree") or _opt(chosen, "path"),  # 0.1.0 logged `path`
        "branch": _opt(chosen, "branch"),
        "config_written_at": times.iso(written),
    }


_SLACK = 0.05  # file times and the log's clock are the same clock; allow for rounding


def _opt(event: dict[str, Any], key: str) -> str | None:
    value = event.get(key)
    return value if isinstance(value, str) else None
