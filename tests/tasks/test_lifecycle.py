"""One task through its states, by the real CLI: claims, tokens, handoffs, blocks, heartbeats."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from conftest import git, git_wt

from .helpers import board_file, events, task


def _commits(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "wt/tasks").strip())


def test_claim_is_exclusive_and_reclaiming_is_unchanged(repo: Path) -> None:
    added = task(repo, "add", "Fix the parser", "--priority", "1")
    assert added["exit"] == 0 and added["task_id"] == "T1" and added["schema_version"] == 1
    first = task(repo, "claim", "T1", agent="a1")
    assert first["outcome"] == "ok" and first["token"] == 1 and first["action"] == "claimed"
    again = task(repo, "claim", "T1", agent="a1")
    assert again["outcome"] == "unchanged" and again["exit"] == 0 and again["token"] == 1
    other = task(repo, "claim", "T1", agent="a2")
    assert other["exit"] == 6 and other["outcome"] == "rejected"
    assert other["holder"] == "a1" and "a1" in other["error"] and other["fix"]
    # The task file is a plain file on the board branch, readable with git alone.
    text = board_file(repo, "T1")
    assert "state: claimed" in text and "assigned_to: a1" in text and "token: 1" in text
    # The working tree and the checked-out branch were never touched.
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_heartbeat_moves_only_the_claim_ref(repo: Path) -> None:
    task(repo, "add", "one")
    task(repo, "claim", "T1")
    before = _commits(repo), git(repo, "rev-parse", "refs/wt/claims/T1").strip()
    for _ in range(3):
        beat = task(repo, "heartbeat", "T1", "--token", "1")
        assert beat["exit"] == 0 and beat["action"] == "renewed"
    assert _commits(repo) == before[0]  # no commit per heartbeat
    assert git(repo, "rev-parse", "refs/wt/claims/T1").strip() != before[1]
    assert git(repo, "cat-file", "-t", "refs/wt/claims/T1").strip() == "blob"
    assert task(repo, "heartbeat", "T1", agent="a2")["exit"] == 6
    assert task(repo, "heartbeat", "T1", "--token", "7")["exit"] == 6


def test_done_needs_the_current_token_and_unblocks_waiters(repo: Path) -> None:
    task(repo, "add", "base")
    task(repo, "add", "later")
    task(repo, "claim", "T1")
    blocked = task(repo, "block", "T2", "--on", "T1")
    assert blocked["exit"] == 0
    assert task(repo, "claim", "T2", agent="a2")["exit"] == 6  # blocked
    assert task(repo, "done", "T1", "--token", "2")["exit"] == 6
    assert task(repo, "done", "T1", "--token", "1", agent="a2")["exit"] == 6
    finished = task(repo, "done", "T1", "--token", "1")
    assert finished["exit"] == 0 and finished["unblocked"] == ["T2"]
    assert task(repo, "done", "T1", "--token", "1")["outcome"] == "unchanged"
    listing = task(repo, "list")
    assert {t["id"]: t["state"] for t in listing["tasks"]} == {"T1": "done", "T2": "open"}


def test_blocked_on_a_human_is_a_state_with_its_reason(repo: Path) -> None:
    task(repo, "add", "deploy")
    refused = task(repo, "block", "T1", "--on", "human")
    assert refused["exit"] == 2 and "--reason" in refused["fix"]
    assert task(repo, "block", "T1", "--on", "human", "--reason", "needs the API key")["exit"] == 0
    nothing = task(repo, "next", agent="a2")
    assert nothing["exit"] == 0 and nothing["task"] is None and nothing["outcome"] == "unchanged"
    row = task(repo, "list")["tasks"][0]
    assert row["state"] == "blocked" and row["blocked_on_human"] is True
    assert row["block_reason"] == "needs the API key"
    text = git_wt(repo, "task", "list").stdout
    assert "needs the API key" in text
    assert task(repo, "unblock", "T1")["exit"] == 0
    assert task(repo, "next", agent="a2")["task_id"] == "T1"


def test_release_carries_the_handoff_to_the_next_agent(repo: Path) -> None:
    task(repo, "add", "refactor")
    task(repo, "claim", "T1")
    released = task(
        repo, "release", "T1", "--token", "1", "--note", "parser half done",
        "--next", "port the tests", "--blocker", "flaky CI",
    )  # fmt: skip
    assert released["exit"] == 0
    nxt = task(repo, "next", agent="a2")
    assert nxt["task_id"] == "T1" and nxt["token"] == 2
    assert nxt["handoff"]["remaining"] == "parser half done"
    assert nxt["handoff"]["next_step"] == "port the tests"
    assert nxt["handoff"]["blockers"] == ["flaky CI"] and nxt["handoff"]["agent"] == "a1"
    text = git_wt(repo, "task", "show", "T1").stdout
    assert text.startswith("handoff from a1")  # the handoff comes first
    assert "next step: port the tests" in text
    # The old holder's token is dead.
    assert task(repo, "done", "T1", "--token", "1")["exit"] == 6


def test_takeover_after_owner_death_increments_the_token(repo: Path) -> None:
    task(repo, "add", "long job")
    owner = subprocess.Popen(["sleep", "300"])
    try:
        got = task(repo, "claim", "T1", "--owner-pid", str(owner.pid), agent="a1")
        assert got["token"] == 1
        assert task(repo, "claim", "T1", agent="a2")["exit"] == 6  # its owner lives
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    row = task(repo, "list")["tasks"][0]
    assert row["lease"] == "owner_dead"
    taken = task(repo, "next", agent="a2")
    assert taken["exit"] == 0 and taken["task_id"] == "T1" and taken["token"] == 2
    assert taken["action"] == "took_over" and taken["took_over_from"] == "a1"
    stale = task(repo, "done", "T1", "--token", "1", agent="a1")
    assert stale["exit"] == 6 and stale["current_token"] == 2
    assert task(repo, "done", "T1", "--token", "2", agent="a2")["exit"] == 0
    takeovers = [e for e in events(repo) if e["action"] == "task_takeover"]
    assert len(takeovers) == 1 and takeovers[0]["took_over_from"] == "a1"
    assert takeovers[0]["token"] == 2 and takeovers[0]["lease_before"] == "owner_dead"
    assert "took over from a1" in git(repo, "log", "--format=%s", "wt/tasks")


def test_expired_claim_is_taken_over(repo: Path) -> None:
    task(repo, "add", "x")
    task(repo, "claim", "T1", "--ttl", "0.000001", "--owner-pid", "0")
    taken = task(repo, "claim", "T1", agent="a2")
    assert taken["token"] == 2 and taken["took_over_from"] == "a1"
    assert task(repo, "heartbeat", "T1", agent="a1")["exit"] == 6


def test_dependencies_order_next(repo: Path) -> None:
    task(repo, "add", "first", "--priority", "5")
    task(repo, "add", "urgent but waits", "--priority", "0", "--depends-on", "T1")
    task(repo, "add", "middle", "--priority", "3")
    assert task(repo, "add", "bad", "--depends-on", "T99")["exit"] == 2
    order = []
    for _ in range(3):
        got = task(repo, "next", agent="a1")
        order.append(got["task_id"])
        assert task(repo, "done", got["task_id"], "--token", str(got["token"]))["exit"] == 0
    assert order == ["T3", "T1", "T2"]


def test_every_event_is_logged(repo: Path) -> None:
    task(repo, "add", "x")
    task(repo, "claim", "T1")
    task(repo, "release", "T1")
    task(repo, "block", "T1", "--on", "human", "--reason", "r")
    task(repo, "unblock", "T1")
    got = task(repo, "next")
    task(repo, "done", "T1", "--token", str(got["token"]))
    task(repo, "edit", "T1", "--title", "renamed")
    actions = [e["action"] for e in events(repo)]
    assert actions == [
        "task_add", "task_claim", "task_release", "task_block", "task_unblock", "task_claim",
        "task_done", "task_edit",
    ]  # fmt: skip


def test_board_checked_out_is_refused(repo: Path) -> None:
    task(repo, "add", "x")
    git(repo, "worktree", "add", "-q", str(repo.parent / "board"), "wt/tasks")
    refused = task(repo, "claim", "T1")
    assert refused["exit"] == 6 and "checked out" in refused["error"]
    assert "assigned_to: null" in board_file(repo, "T1")


def test_alloc_gives_a_worktree_on_the_task_branch_and_release_offers_the_task(
    repo: Path,
) -> None:
    task(repo, "add", "feature")
    got = task(repo, "next", "--alloc", agent="a1")
    assert got["exit"] == 0 and got["branch"] == "task/T1" and Path(got["worktree"]).is_dir()
    offer = git_wt(repo, "release", "a1", "--note", "tests left", "--json")
    assert offer.returncode == 0 and "git wt task release T1" in offer.stderr
    assert task(repo, "show", "T1")["task"]["state"] == "claimed"
    both = git_wt(repo, "release", "a1", "--note", "tests left", "--release-task")
    assert both.returncode == 0, both.stderr
    shown = task(repo, "show", "T1")
    assert shown["task"]["state"] == "open"
    assert shown["handoff"]["remaining"] == "tests left"
    assert shown["handoff"]["branch"] == "task/T1"


def test_the_holder_coming_back_keeps_its_token(repo: Path) -> None:
    task(repo, "add", "x")
    task(repo, "claim", "T1", "--ttl", "0.000001", "--owner-pid", "0")
    back = task(repo, "next")  # my own expired claim, nobody took it over
    assert back["exit"] == 0 and back["action"] == "reclaimed" and back["token"] == 1
    assert task(repo, "claim", "T1")["outcome"] == "unchanged"
    assert task(repo, "done", "T1", "--token", "1")["exit"] == 0


def test_a_stale_claim_ref_lock_is_cleared_not_retried_until_the_deadline(repo: Path) -> None:
    """The board's swap is core.refs.transaction: a claim ref's `.lock` left by a killed git is
    removed (the same policy as every ref move) instead of the swap being lost, re-decided and
    lost again until --lock-timeout ran out."""
    task(repo, "add", "one")
    task(repo, "claim", "T1")
    lock = repo / ".git" / "refs" / "wt" / "claims" / "T1.lock"
    lock.write_bytes(b"")  # a killed git's
    beat = task(repo, "heartbeat", "T1", "--token", "1", "--lock-timeout", "2")
    assert beat["exit"] == 0 and beat["action"] == "renewed" and not lock.exists()
    assert git(repo, "reflog", "-1", "--format=%gs", "wt/tasks").strip() == "wt task (a1)"
