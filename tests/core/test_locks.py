"""core.locks.RecordedLock after it dropped pathlib, json and dataclasses: a lock given as str
or Path is the same flock, its holder record is the bytes json.dumps wrote, the lock file stays,
and a waiter times out naming the holder."""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

import pytest

from worktree_tools.core.errors import LockTimeout
from worktree_tools.core.locks import Holder, RecordedLock, read_holder


@pytest.mark.parametrize("as_str", [False, True])
def test_a_held_lock_records_its_holder_as_json_dumps_wrote_it(
    tmp_path: Path, as_str: bool
) -> None:
    lock = tmp_path / "sub" / "repo.lock"
    given: str | Path = os.fspath(lock) if as_str else lock
    holder = Holder.me("agent-1")
    with RecordedLock(given, "repository lock", holder, time.monotonic() + 5):
        raw = (tmp_path / "sub" / "repo.lock.json").read_text()
        record = json.loads(raw)
        assert raw == json.dumps(record)
        assert list(record) == ["agent", "pid", "host", "acquired_at", "command"]
        assert record["agent"] == "agent-1" and record["pid"] == os.getpid()
        found = read_holder(given)
        assert found is not None and found.record() == record
        fd = os.open(lock, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    assert lock.exists() and not (tmp_path / "sub" / "repo.lock.json").exists()
    assert read_holder(given) is None


def test_a_second_holder_times_out_naming_the_first(tmp_path: Path) -> None:
    lock = os.fspath(tmp_path / "repo.lock")
    with RecordedLock(lock, "repository lock", Holder.me("first"), time.monotonic() + 5):
        second = RecordedLock(lock, "repository lock", Holder.me("second"), time.monotonic())
        with pytest.raises(LockTimeout) as err, second:
            pass
    assert "'first'" in err.value.message and err.value.details["lock"] == lock
    assert err.value.details["holder"]["agent"] == "first"
