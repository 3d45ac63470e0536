"""A claim record is written without the json module (core/jsonline): the bytes are what
json.dumps(..., sort_keys=True) wrote, and they read back as the same record."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from worktree_tools.tasks.claims import VERSION, ClaimRecord
from worktree_tools.worktrees.records import Owner

texts = st.text(max_size=12)
times = st.floats(min_value=0, max_value=4e9, allow_nan=False)
owners = st.builds(
    Owner, pid=st.integers(0, 2**22), started=st.none() | times, host=st.text(min_size=1)
)
records = st.builds(
    ClaimRecord,
    task=texts,
    agent=texts,
    token=st.integers(1, 2**40),
    owner=owners,
    claimed_at=times,
    heartbeat=times,
    ttl=st.floats(min_value=0.001, max_value=1e6),
    released=st.booleans(),
)


@given(records)
def test_render_is_json_dumps_with_sorted_keys_and_reads_back(record: ClaimRecord) -> None:
    data = {
        "task": record.task,
        "agent": record.agent,
        "token": record.token,
        "owner": {"pid": record.owner.pid, "started": record.owner.started,
                  "host": record.owner.host},
        "claimed_at": record.claimed_at,
        "heartbeat": record.heartbeat,
        "ttl": record.ttl,
        "released": record.released,
        "version": VERSION,
    }  # fmt: skip
    assert record.render() == (json.dumps(data, sort_keys=True) + "\n").encode()
    assert ClaimRecord.parse(record.render()) == record
