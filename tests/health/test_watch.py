"""`git wt watch`: one event per change, --once for cron and CI, and never a mutation.

No wall-clock assertion: "notices an owner's death within one interval" is checked by the
order of events (the death happened before a later change that the watcher saw at cycle c, so
the death must be reported by cycle c + 1) and, in the core loop, by the very next scan.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import GIT_WT, git, git_wt, write

from worktree_tools.contract import schemas
from worktree_tools.core.repo import discover
from worktree_tools.health.watch import Change, Event, Kind, Options, Scanner, watch


def spawn_owner() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])


def kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()  # reaped: a zombie still counts as a live process


def alloc(repo: Path, agent: str, *args: str, owner: int = 0) -> Path:
    res = git_wt(repo, "alloc", agent, "--owner-pid", str(owner), *args)
    assert res.returncode == 0, res.stderr
    return Path(res.stdout.strip())


def once(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    res = git_wt(repo, "watch", "--once", "--json", *args)
    return res.returncode, json.loads(res.stdout)


def kinds(payload: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["kind"], f["subject"]) for f in payload["findings"]}


def stale_lock(path: Path) -> None:
    path.write_bytes(b"")
    old = time.time() - 30
    os.utime(path, (old, old))


def state_snapshot(repo: Path) -> dict[str, tuple[int, int]]:
    """Every file under .git with its size and mtime: what a read-only watcher leaves alone."""
    out = {}
    for p in sorted((repo / ".git").rglob("*")):
        if p.is_file():
            st = p.stat()
            out[os.fspath(p)] = (st.st_size, st.st_mtime_ns)
    return out


def test_once_healthy_exits_0(repo: Path) -> None:
    code, payload = once(repo)
    assert (code, payload["outcome"], payload["findings"]) == (0, "ok", [])
    res = git_wt(repo, "watch", "--once")
    assert res.returncode == 0
    assert "healthy" in res.stdout


def test_once_reports_each_kind_and_exits_7(repo: Path) -> None:
    owner = spawn_owner()
    alloc(repo, "dead", owner=owner.pid)
    kill(owner)
    alloc(repo, "late", "--ttl", "0.01")
    alloc(repo, "waiting")
    res = git_wt(repo, "release", "waiting", "--state", "blocked", "--blocker", "needs creds")
    assert res.returncode == 0, res.stderr
    # A journal entry edited in place on a branch (plain git, no hooks here).
    write(repo, "journal/2026-01-01/a.md", "first\n")
    git(repo, "add", "journal")
    git(repo, "commit", "-qm", "journal entry")
    git(repo, "branch", "rewrite")
    side = repo.parent / "side"
    git(repo, "worktree", "add", "-q", os.fspath(side), "rewrite")
    write(side, "journal/2026-01-01/a.md", "edited\n")
    git(side, "commit", "-qam", "rewrite history")
    # A pre-commit patch of unstaged work that was never restored (RACES R3).
    write(repo, "README", "hello\nunstaged work\n")
    patch = git(repo, "diff", "--", "README")
    git(repo, "checkout", "--", "README")
    cache = Path(os.environ["PRE_COMMIT_HOME"])
    write(cache, "patch1700000000-999999999", patch)  # no such pid: not running
    stale_lock(repo / ".git" / "index.lock")

    code, payload = once(repo)
    found = kinds(payload)
    assert code == 7, payload
    assert payload["outcome"] == "attention"
    assert ("owner_dead", "dead") in found
    assert ("lease_expired", "late") in found
    assert ("blocked_on_human", "waiting") in found
    assert ("stale_git_lock", os.fspath(repo / ".git" / "index.lock")) in found
    assert ("journal_violation", "rewrite") in found
    assert ("journal_violation", "main") not in found
    assert any(k == "stranded_patch" for k, _ in found)
    blocked = next(f for f in payload["findings"] if f["kind"] == "blocked_on_human")
    assert blocked["blockers"] == ["needs creds"]


def test_lock_held_past_threshold_by_a_live_holder(repo: Path) -> None:
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from worktree_tools.core.locks import Holder, RecordedLock\n"
        "lock = RecordedLock(Path(sys.argv[1]), 'repository lock', Holder.me('slow'), "
        "time.monotonic() + 10)\n"
        "with lock:\n"
        "    print('held', flush=True)\n"
        "    time.sleep(3600)\n"
    )
    lock = repo / ".git" / "wt" / "repo.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", code, os.fspath(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        code_rc, payload = once(repo, "--lock-threshold", "0")
        assert code_rc == 7
        held = [f for f in payload["findings"] if f["kind"] == "lock_held_long"]
        assert [f["subject"] for f in held] == [os.fspath(lock)]
        assert held[0]["holder"]["agent"] == "slow"
        assert held[0]["holder"]["pid"] == holder.pid
        assert once(repo)[0] == 0, "under the default threshold it is no finding"
    finally:
        holder.kill()
        holder.wait()
    # SIGKILL left the holder record behind, but the flock died with its holder.
    assert (lock.parent / "repo.lock.json").exists()
    assert once(repo, "--lock-threshold", "0") == (
        0,
        {"schema_version": 1, "outcome": "ok", "findings": [], "errors": []},
    )


def test_watch_changes_nothing(repo: Path) -> None:
    owner = spawn_owner()
    alloc(repo, "a1", owner=owner.pid)
    kill(owner)
    alloc(repo, "a2", "--ttl", "0.01")
    stale_lock(repo / ".git" / "index.lock")
    before = state_snapshot(repo)
    refs = git(repo, "for-each-ref")
    assert once(repo)[0] == 7
    res = git_wt(repo, "watch", "--json", "--interval", "0.05", "--cycles", "3")
    assert res.returncode == 0, res.stderr
    assert state_snapshot(repo) == before
    assert git(repo, "for-each-ref") == refs
    assert (repo / ".git" / "index.lock").exists(), "watch never removes a lock, stale or not"


def test_core_loop_notices_a_death_at_the_next_scan(repo: Path) -> None:
    owner = spawn_owner()
    alloc(repo, "a1", owner=owner.pid)
    wt = discover(repo)
    actions = [lambda: kill(owner), lambda: None, lambda: heartbeat_as_new_owner(repo)]

    def between_scans(_seconds: float) -> None:
        actions.pop(0)()

    got = [
        item
        for item in watch(wt, 0.0, Options(journal=False), cycles=4, sleep=between_scans)
        if isinstance(item, Event)
    ]
    summary = [(e.cycle, e.change, e.finding.kind, e.finding.subject) for e in got]
    # Scan 1: healthy. Death between scans 1 and 2: reported at scan 2, once (not again at 3).
    # The agent came back (heartbeat as a new owner) after scan 3: cleared at scan 4.
    assert summary == [
        (2, Change.RAISED, Kind.OWNER_DEAD, "a1"),
        (4, Change.CLEARED, Kind.OWNER_DEAD, "a1"),
    ]


def heartbeat_as_new_owner(repo: Path) -> None:
    res = git_wt(repo, "heartbeat", "a1", "--owner-pid", "0")
    assert res.returncode == 0, res.stderr


def test_journal_violation_raised_once_and_kept_as_the_branch_moves_on(repo: Path) -> None:
    write(repo, "journal/x.md", "one\n")
    git(repo, "add", "journal")
    git(repo, "commit", "-qm", "entry")
    scanner = Scanner(discover(repo), Options())
    assert scanner.scan() == []
    write(repo, "journal/x.md", "changed\n")
    git(repo, "commit", "-qam", "edit in place")
    first = [f for f in scanner.scan() if f.kind is Kind.JOURNAL_VIOLATION]
    assert [f.subject for f in first] == ["main"]
    write(repo, "other.txt", "fine\n")
    git(repo, "add", "other.txt")
    git(repo, "commit", "-qm", "a later good commit")
    later = [f for f in scanner.scan() if f.kind is Kind.JOURNAL_VIOLATION]
    assert [f.key for f in later] == [f.key for f in first], "the violation is still there"


def test_cli_reports_an_owner_death_within_one_cycle(repo: Path) -> None:
    owner = spawn_owner()
    alloc(repo, "a1", owner=owner.pid)
    alloc(repo, "sentinel")
    proc = subprocess.Popen(
        [GIT_WT, "watch", "--json", "--interval", "0.2", "--cycles", "500", "--no-journal"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    events: list[dict[str, Any]] = []
    try:
        kill(owner)
        # A later change: released as blocked after the death. Whatever scan sees it, the
        # death happened before it, so the death must be reported by the next scan at most.
        res = git_wt(repo, "release", "sentinel", "--state", "blocked", "--blocker", "human")
        assert res.returncode == 0, res.stderr
        assert proc.stdout is not None
        for line in proc.stdout:
            events.append(json.loads(line))
            jsonschema.validate(events[-1], schemas.schema("watch event"))
            seen = {(e["kind"], e["subject"]) for e in events}
            if {("owner_dead", "a1"), ("blocked_on_human", "sentinel")} <= seen:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    dead = next(e for e in events if e["kind"] == "owner_dead")
    blocked = next(e for e in events if e["kind"] == "blocked_on_human")
    assert dead["change"] == blocked["change"] == "raised"
    assert dead["cycle"] <= blocked["cycle"] + 1, events
    assert len(events) == len({(e["kind"], e["subject"], e["change"]) for e in events})


@pytest.mark.parametrize("args", [["--interval", "0"], ["--lock-threshold", "-1"], ["--bogus"]])
def test_bad_usage_exits_2(repo: Path, args: list[str]) -> None:
    res = git_wt(repo, "watch", "--once", *args)
    assert res.returncode == 2, res.stderr


def test_outside_a_repository_exits_2(tmp_path: Path) -> None:
    res = git_wt(tmp_path, "watch", "--once", "--json")
    assert res.returncode == 2
    assert json.loads(res.stdout)["outcome"] == "invalid"


def test_a_running_watcher_never_passes_for_a_lock_holder(repo: Path) -> None:
    """Lock-liveness scans count processes named git* working in the repository as possible
    holders; a watcher that stayed in the repository would keep doctor from ever proving a
    stale lock stale."""
    proc = subprocess.Popen(
        [GIT_WT, "watch", "--json", "--interval", "0.2", "--cycles", "500", "--no-journal"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lock = repo / ".git" / "index.lock"
        stale_lock(lock)
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())  # the watcher is up and has scanned
        assert (first["kind"], first["subject"]) == ("stale_git_lock", os.fspath(lock))
        res = subprocess.run(
            [GIT_WT, "doctor", "--fix", "--json"], cwd=repo, capture_output=True, text=True
        )
        assert res.returncode == 0, res.stdout + res.stderr
        assert not lock.exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()


def test_watch_takes_no_lock(repo: Path) -> None:
    """With every worktree-tools lock held by someone else, a scan still completes: a watcher
    that waited for one would end in lock_timeout (exit 3) instead."""
    alloc(repo, "a1", "--ttl", "0.01")
    state = repo / ".git" / "wt"
    locks = [state / "worktree-admin.lock", state / "repo.lock"]
    locks += [p for p in (state / "agent-locks").glob("*.lock")]
    code = (
        "import fcntl, sys, time\n"
        "fds = [open(p, 'a') for p in sys.argv[1:]]\n"
        "for fd in fds: fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "time.sleep(3600)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, *map(os.fspath, locks)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        res = git_wt(repo, "watch", "--once", "--json", env={"WT_LOCK_TIMEOUT": "1"})
        assert res.returncode == 7, res.stdout + res.stderr
        payload = json.loads(res.stdout)
        assert payload["errors"] == [], "no source of the scan may wait for a lock"
        assert kinds(payload) == {("lease_expired", "a1")}
    finally:
        kill(holder)  # type: ignore[arg-type]
