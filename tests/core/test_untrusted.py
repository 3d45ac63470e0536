"""Every record kind is parsed by one validating classmethod: each malformed variant (wrong
type, null, out of range, not UTF-8, truncated) is refused as a ValueError, never another
exception; and the commands that read them report corrupt with the path and a fix."""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import git, git_wt, head, write, wt_commit
from hypothesis import given, settings
from hypothesis import strategies as st

from worktree_tools.core import events, fields
from worktree_tools.core.gitlocks import Marker
from worktree_tools.core.identity import Baseline
from worktree_tools.core.locks import Holder
from worktree_tools.remote.records import LeaseRecord

HOLDER = {"agent": "a", "pid": 123, "host": "h", "acquired_at": 1.5, "command": "wt-commit"}
MARKER = {"tool": "worktree-tools", "pid": 123, "host": "h", "created": 1.5}
EVENT = {"ts": "2026-11-29T15:04:05+00:00", "action": "commit", "agent": "a", "pid": 1, "host": "h"}
LEASE = {
    "name": "n", "holder": "a", "host": "h", "pid": 1, "acquired_at": 1.0, "renewed_at": 2.0,
    "ttl": 60.0, "token": 1, "released": False,
}  # fmt: skip
BASELINE = {"values": {"user.name": "x", "user.email": None}, "recorded_at": "t",
            "recorded_epoch": 1.0}  # fmt: skip


def _events_parse(raw: bytes) -> object:
    return events.parse_line(raw)


def _marker_parse(raw: bytes) -> object:
    got = Marker.parse(raw)
    if got is None:
        raise ValueError("not a marker")
    return got


OPTIONAL = {"released"}  # fields a record may leave out (they have a default)
PARSERS: dict[str, tuple[Any, dict[str, Any], list[str]]] = {
    # kind: (parse(bytes), a valid record, its numeric fields)
    "lock holder": (Holder.parse, HOLDER, ["pid", "acquired_at"]),
    "lock marker": (_marker_parse, MARKER, ["pid", "created"]),
    "event line": (_events_parse, EVENT, ["pid"]),
    "lease record": (
        LeaseRecord.parse, LEASE, ["pid", "acquired_at", "renewed_at", "ttl", "token"]
    ),
    "identity baseline": (Baseline.parse, BASELINE, ["recorded_epoch"]),
}  # fmt: skip


def _raw(data: Any) -> bytes:
    return json.dumps(data, allow_nan=True).encode()


def _variants(valid: dict[str, Any], numbers: list[str]) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for key in valid:
        if key == "tool":
            continue
        out.append((f"{key} null", _raw({**valid, key: None})))
        out.append((f"{key} a list", _raw({**valid, key: [1]})))
        if key not in OPTIONAL:
            out.append((f"{key} missing", _raw({k: v for k, v in valid.items() if k != key})))
        wrong: Any = "x" if not isinstance(valid[key], str) else 7
        if key in numbers:
            wrong = "123"
        out.append((f"{key} wrong type", _raw({**valid, key: wrong})))
    for key in numbers:
        for bad in (math.nan, math.inf, -math.inf, -5, 10**30):
            out.append((f"{key}={bad}", _raw({**valid, key: bad})))
        out.append(
            (
                f"{key}=1e400",
                _raw(valid).replace(
                    b'"%s": ' % key.encode(), b'"%s": 1e400, "_": ' % key.encode(), 1
                ),
            )
        )
    good = _raw(valid)
    out.append(
        (
            "not UTF-8",
            good.replace(b'"h"', b'"\xff"') if b'"h"' in good else good[:-1] + b', "\xff": 1}',
        )
    )
    out.append(("truncated", good[: len(good) // 2]))
    out.append(("null", b"null"))
    out.append(("a list", b"[1, 2]"))
    out.append(("empty", b""))
    return out


CASES = [
    pytest.param(kind, name, raw, id=f"{kind}: {name}")
    for kind, (_p, valid, numbers) in PARSERS.items()
    for name, raw in _variants(valid, numbers)
]


@pytest.mark.parametrize("kind", list(PARSERS))
def test_a_valid_record_parses(kind: str) -> None:
    parse, valid, _ = PARSERS[kind]
    assert parse(_raw(valid)) is not None


@pytest.mark.parametrize(("kind", "name", "raw"), CASES)
def test_each_malformed_variant_is_refused_as_a_value_error(
    kind: str, name: str, raw: bytes
) -> None:
    parse = PARSERS[kind][0]
    with pytest.raises(ValueError):
        parse(raw)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)  # fmt: skip


@pytest.mark.parametrize("kind", list(PARSERS))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_mutation_parses_or_is_refused_never_crashes(kind: str, data: st.DataObject) -> None:
    parse, valid, _ = PARSERS[kind]
    record = dict(valid)
    for key in data.draw(st.lists(st.sampled_from(sorted(valid)), max_size=3)):
        record[key] = data.draw(JSON)
    raw = _raw(record)
    cut = data.draw(st.integers(min_value=0, max_value=len(raw)))
    raw = data.draw(st.sampled_from([raw, raw[:cut], raw[:cut] + b"\xff" + raw[cut:]]))
    try:
        parsed = parse(raw)
    except ValueError:
        return
    for name in PARSERS[kind][2]:  # whatever parsed is finite and in range
        value = getattr(parsed, name, None)
        if isinstance(value, float):
            assert math.isfinite(value) and value >= 0


# ---- the commands that read them ---------------------------------------------------------


def test_wt_owner_not_utf8_is_reported_not_a_traceback(repo: Path) -> None:
    (repo / ".git" / "wt-owner").write_bytes(b"\xff\xfeagent\n")
    write(repo, "a.txt", "a\n")
    before = head(repo)
    proc = wt_commit(repo, "--json", "-m", "a", "--", "a.txt")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    out = json.loads(proc.stdout)
    assert "wt-owner" in out["error"] and "not UTF-8" in out["error"] and out["fix"]
    assert head(repo) == before
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o755)
    # An explicit name works; with the owner unproven, hooks run isolated.
    named = wt_commit(repo, "-m", "a", "--agent", "ana", "--", "a.txt")
    assert named.returncode == 0, named.stderr


def test_event_log_lines_of_the_wrong_type_are_shown_as_corrupt(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    assert wt_commit(repo, "-m", "a", "--agent", "ana", "--", "a.txt").returncode == 0
    log = repo / ".git" / "wt" / "events.jsonl"
    with open(log, "ab") as fh:
        fh.write(b'{"ts": null, "action": "commit", "agent": "x"}\n')
        fh.write(b'{"ts": "t", "action": 5, "agent": ["x"], "outcome": 3}\n')
        fh.write(b'{"ts": "t", "action": "x", "agent": "x", "pid": NaN}\n')
        fh.write(b'"a string"\n\xff\xfe\n{"truncated": \n')
    text = git_wt(repo, "log")
    assert text.returncode == 0 and "Traceback" not in text.stderr
    assert text.stdout.count("is not an event") == 6 and "events.jsonl" in text.stdout
    as_json = git_wt(repo, "log", "--json")
    rows = json.loads(as_json.stdout)["events"]
    assert rows[0]["agent"] == "ana" and sum("corrupt" in r for r in rows) == 6
    assert all(r["path"] == os.fspath(log) for r in rows[1:])
    assert git_wt(repo, "log", "--agent", "ana").returncode == 0


@pytest.mark.parametrize("pid", ['"123"', "[1]", "NaN", "1e400", "-1", "null"])
def test_a_lock_marker_with_a_bad_pid_counts_as_held_and_is_named(repo: Path, pid: str) -> None:
    lock = repo / ".git" / "index.lock"
    lock.write_text(f'{{"tool": "worktree-tools", "pid": {pid}, "host": "h", "created": 1}}')
    os.utime(lock, (1, 1))  # old: a lock without a marker would be judged stale
    write(repo, "README", "changed\n")
    proc = wt_commit(repo, "--json", "--lock-timeout", "0.2", "-m", "a", "--", "README")
    assert proc.returncode == 3 and "Traceback" not in proc.stderr, proc.stderr
    assert "marker is corrupt" in json.loads(proc.stdout)["error"]
    doctor = git_wt(repo, "doctor", "--fix", "--json")
    assert "Traceback" not in doctor.stderr
    found = [f for f in json.loads(doctor.stdout)["findings"] if f["subject"] == os.fspath(lock)]
    assert found and found[0]["kind"] == "live_lock" and "rm " in found[0]["detail"]
    assert lock.exists()  # never removed on a guess
    watch = git_wt(repo, "watch", "--once", "--json", "--no-journal", "--lock-threshold", "0")
    assert watch.returncode == 7 and "Traceback" not in watch.stderr
    assert os.fspath(lock) in watch.stdout


def test_a_corrupt_lock_holder_record_is_reported_by_watch(repo: Path) -> None:
    state = repo / ".git" / "wt"
    state.mkdir(parents=True, exist_ok=True)
    (state / "repo.lock").write_bytes(b"")
    record = state / "repo.lock.json"
    record.write_text(json.dumps({**HOLDER, "pid": "x"}))
    proc = git_wt(repo, "watch", "--once", "--json", "--no-journal")
    assert proc.returncode == 7 and "Traceback" not in proc.stderr
    (found,) = [f for f in json.loads(proc.stdout)["findings"] if f["kind"] == "corrupt_record"]
    assert found["subject"] == os.fspath(record) and found["fix"].startswith("when nobody holds")
    git(repo, "status")  # the repository itself is untouched


@given(st.one_of(st.floats(), st.integers(min_value=-(10**300), max_value=10**300)))
def test_finite_is_math_isfinite(value: float) -> None:
    """fields' finiteness check, written without importing math, is math.isfinite's."""
    assert fields._finite(value) == math.isfinite(value)


@pytest.mark.parametrize(
    "value",
    ["true", "TRUE", "yes", "On", "1", "-1", "+2", "42", "false", "No", "off", "0", "00", "",
     "maybe", "1k", "0x1", " true", "tru"],
)  # fmt: skip
def test_git_bool_reads_a_value_as_git_does(tmp_path: Path, value: str) -> None:
    """fields.git_bool against `git config --type=bool`: the same answer, or None where git
    refuses (a unit suffix or hex git may take is refused here too: the callers then leave it
    to git)."""
    proc = subprocess.run(
        ["git", "-c", f"x.y={value}", "config", "--type=bool", "x.y"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    ours = fields.git_bool(value)
    if proc.returncode != 0:
        assert ours is None
    elif ours is not None:
        assert ours == (proc.stdout.strip() == "true")
