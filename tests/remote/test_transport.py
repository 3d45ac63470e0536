"""How a server's answer to one ref update is read: the retry/replay/refuse decision rests on it."""

from __future__ import annotations

import pytest

from worktree_tools.remote.transport import PushStatus


@pytest.mark.parametrize(
    ("flag", "summary", "status"),
    [
        (" ", "abc..def", PushStatus.OK),
        ("*", "[new reference]", PushStatus.OK),
        ("+", "abc...def (forced update)", PushStatus.OK),  # a lease ref swapped by CAS
        ("=", "[up to date]", PushStatus.UP_TO_DATE),
        ("!", "[rejected] (non-fast-forward)", PushStatus.MOVED),
        ("!", "[rejected] (fetch first)", PushStatus.MOVED),
        ("!", "[rejected] (stale info)", PushStatus.MOVED),
        ("!", "[remote rejected] (incorrect old value provided)", PushStatus.MOVED),
        ("!", "[remote rejected] (failed to update ref)", PushStatus.BUSY),
        ("!", "[remote rejected] (cannot lock ref 'refs/heads/main')", PushStatus.BUSY),
        ("!", "[rejected] (atomic push failed)", PushStatus.BUSY),
        ("!", "[remote rejected] (pre-receive hook declined)", PushStatus.REFUSED),
        ("!", "[remote rejected] (deny updating a hidden ref)", PushStatus.REFUSED),
    ],
)
def test_push_line_status(flag: str, summary: str, status: PushStatus) -> None:
    assert PushStatus.parse(flag, summary) is status


def test_unknown_flag_is_an_error() -> None:
    with pytest.raises(ValueError):
        PushStatus.parse("?", "whatever")
