"""How a server's answer to one ref update is read: the retry/replay/refuse decision rests on it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import git, git_wt

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


def test_a_server_that_refuses_the_tools_refs_is_a_refusal_naming_what(
    repo: Path, tmp_path: Path
) -> None:
    """transport.swap, the one compare-and-swap on a server (leases, the task board): a
    pre-receive hook that declines refs/wt/* is exit 6 naming the ref and the fix, for both."""
    bare = tmp_path / "server.git"
    git(tmp_path, "init", "-q", "--bare", os.fspath(bare))
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'no refs/wt here' >&2\nexit 1\n")
    hook.chmod(0o755)
    leased = git_wt(repo, "lease", "acquire", "x", "--ttl", "60", "--remote", os.fspath(bare),
                    "--agent", "a1", "--json")  # fmt: skip
    data = json.loads(leased.stdout)
    assert leased.returncode == 6 and "refused to update refs/wt/leases/x" in data["error"]
    assert "refs/wt/*" in data["fix"]
    added = git_wt(repo, "task", "add", "one", "--remote", os.fspath(bare), "--agent", "a1",
                   "--json")  # fmt: skip
    data = json.loads(added.stdout)
    assert added.returncode == 6 and "refused to update the task board" in data["error"]
    assert git(bare, "for-each-ref") == ""  # nothing was taken
