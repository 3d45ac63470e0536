"""Leases: one holder among 8 machines, takeover after expiry, tokens that only grow, fences."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_WT, git, git_wt, head, write

from .server import clone, driver

# A lease that is expired as soon as it is written: no test waits on a clock.
INSTANT = "0.000001"


def lease(cwd: Path, *args: str, agent: str = "a1") -> dict:  # type: ignore[type-arg]
    who = () if args[0] == "list" else ("--agent", agent)
    proc = git_wt(cwd, "lease", *args, *who, "--json")
    data: dict[str, Any] = json.loads(proc.stdout)
    data["exit"] = proc.returncode
    return data


def test_local_lease_lifecycle_and_the_token_only_grows(repo: Path) -> None:
    first = lease(repo, "acquire", "deploy", "--ttl", "600")
    assert first["exit"] == 0 and first["state"] == "held" and first["token"] == 1
    assert first["where"] == "local" and first["holder"] == "a1"
    other = lease(repo, "acquire", "deploy", "--ttl", "600", agent="a2")
    assert other["exit"] == 4 and other["outcome"] == "conflict" and "a1" in other["error"]
    again = lease(repo, "acquire", "deploy", "--ttl", "600")  # idempotent for the holder
    assert again["token"] == 1 and again["already_held"] is True
    assert lease(repo, "renew", "deploy", "--ttl", "900")["ttl"] == 900
    assert lease(repo, "release", "deploy", agent="a2")["exit"] == 4  # not a2's to release
    released = lease(repo, "release", "deploy")
    assert released["state"] == "released" and released["token"] == 1
    taken = lease(repo, "acquire", "deploy", "--ttl", "600", agent="a2")
    assert taken["token"] == 2 and taken["holder"] == "a2"  # the counter survived the release
    assert lease(repo, "renew", "deploy", "--token", "1", agent="a2")["exit"] == 6
    listing = json.loads(git_wt(repo, "lease", "list", "--json").stdout)
    assert [(x["name"], x["state"], x["token"]) for x in listing["leases"]] == [
        ("deploy", "held", 2)
    ]
    # The history is the ref's log of records: acquire, renew, release, acquire... never reset.
    log = git(repo, "log", "--format=%s", "refs/wt/leases/deploy").splitlines()
    assert log[0] == "wt lease deploy: held by a2, token 2" and len(log) == 5
    actions = [e["action"] for e in map(json.loads, (repo / ".git/wt/events.jsonl").open())]
    assert actions.count("lease_acquire") == 3 and "lease_release" in actions


def test_expired_lease_is_taken_over_with_a_higher_token(repo: Path) -> None:
    assert lease(repo, "acquire", "gen", "--ttl", INSTANT)["token"] == 1
    assert lease(repo, "list")["leases"][0]["state"] == "expired"
    taken = lease(repo, "acquire", "gen", "--ttl", "600", agent="a2")
    assert taken["exit"] == 0 and taken["token"] == 2 and taken["took_over_from"] == "a1"
    # The old holder can neither renew nor release what it lost.
    assert lease(repo, "renew", "gen")["exit"] == 4
    assert lease(repo, "release", "gen")["exit"] == 4


def test_eight_machines_acquire_one_remote_lease_one_wins(origin: str, tmp_path: Path) -> None:
    clones = [clone(origin, tmp_path / f"m{i}") for i in range(8)]
    argv = ["lease", "acquire", "hot", "--remote", "origin", "--ttl", "600", "--json"]
    procs = [
        subprocess.Popen(
            [GIT_WT, *argv, "--agent", f"m{i}"], cwd=c, stdout=subprocess.PIPE, text=True
        )
        for i, c in enumerate(clones)
    ]
    results = [(p.communicate(timeout=120)[0], p.returncode) for p in procs]
    winners = [json.loads(out) for out, rc in results if rc == 0]
    losers = [json.loads(out) for out, rc in results if rc != 0]
    assert len(winners) == 1, results
    assert all(x["outcome"] == "conflict" for x in losers) and len(losers) == 7
    winner = winners[0]
    assert winner["token"] == 1
    # Every machine now sees that one holder.
    for c in clones:
        seen = lease(c, "list", "--remote", "origin")["leases"]
        assert [(x["holder"], x["token"]) for x in seen] == [(winner["holder"], 1)]


def test_remote_takeover_after_expiry_and_stale_fence(origin: str, tmp_path: Path) -> None:
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    r = ("--remote", "origin")
    assert lease(a, "acquire", "branch-main", *r, "--ttl", INSTANT, agent="a")["token"] == 1
    taken = lease(b, "acquire", "branch-main", *r, "--ttl", "600", agent="b")
    assert taken["exit"] == 0 and taken["token"] == 2 and taken["took_over_from"] == "a"
    # A still believes it holds token 1: its fenced commit is refused, nothing committed.
    before = head(a)
    write(a, "src/app.py", "print('a')\n")
    refused = driver(a, "--remote", "origin", "--fence", "branch-main:1", "-m", "a", "src/app.py")
    assert refused.returncode == 6, refused.stderr
    assert json.loads(refused.stdout)["current_token"] == 2
    assert head(a) == before
    # B's current token commits and pushes; the push renewed the lease record atomically.
    write(b, "README", "b\n")
    ok = driver(b, "--push", "--fence", "branch-main:2", "-m", "b", "--agent", "b", "README")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["push"]["fence_token"] == 2
    log = git(b, "ls-remote", "origin", "refs/wt/leases/branch-main").split()[0]
    assert log != taken["record_oid"]  # a new record: the copy that went with the push
    seen = lease(b, "list", *r)["leases"][0]
    assert (seen["holder"], seen["token"], seen["state"]) == ("b", 2, "held")


def test_eight_local_acquires_in_one_repository_one_wins(repo: Path) -> None:
    argv = ["lease", "acquire", "artifact", "--ttl", "600", "--json"]
    procs = [
        subprocess.Popen([GIT_WT, *argv, "--agent", f"p{i}"], cwd=repo, stdout=subprocess.PIPE)
        for i in range(8)
    ]
    codes = sorted(p.wait(timeout=120) for p in procs)
    for p in procs:
        assert p.stdout is not None
        p.stdout.close()
    assert codes == [0] + [4] * 7
    assert len(git(repo, "log", "--format=%H", "refs/wt/leases/artifact").split()) == 1


def test_fenced_push_is_atomic_with_the_lease(
    origin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fence passes its check, then the lease changes hands before the push: the server
    refuses the branch update together with the lease update, and the commit stays local."""
    from worktree_tools.commit.request import CommitRequest
    from worktree_tools.commit.run import run
    from worktree_tools.core.repo import discover
    from worktree_tools.remote import push as push_mod
    from worktree_tools.remote.fence import Fence, StaleFence, verify
    from worktree_tools.remote.store import RemoteStore

    a = clone(origin, tmp_path / "a")
    assert lease(a, "acquire", "main", "--remote", "origin", "--ttl", "600")["token"] == 1
    wt = discover(a)
    checked = verify(RemoteStore(wt, "origin"), Fence("main", 1), agent="a1")
    assert lease(a, "release", "main", "--remote", "origin")["state"] == "released"
    assert (
        lease(a, "acquire", "main", "--remote", "origin", "--ttl", "600", agent="b")["token"] == 2
    )
    calls: list[Fence] = []

    def stale_then_real(store: RemoteStore, fence: Fence, *, agent: str, then: str) -> object:
        calls.append(fence)
        return checked if len(calls) == 1 else verify(store, fence, agent=agent, then=then)

    monkeypatch.setattr(push_mod, "verify", stale_then_real)
    before = git(a, "ls-remote", "origin", "refs/heads/main").split()[0]
    write(a, "src/app.py", "print('fenced')\n")
    result = run(CommitRequest(paths=("src/app.py",), cwd=a, messages=("m",), agent="a1"))
    with pytest.raises(StaleFence, match="intact and not pushed"):
        push_mod.push_commit(
            wt, result, remote="origin", retries=3, agent="a1", fence=Fence("main", 1)
        )
    assert len(calls) == 2  # the atomic push failed, and the second look saw token 2
    assert git(a, "ls-remote", "origin", "refs/heads/main").split()[0] == before
    assert head(a) == result.commit


def test_fence_argument_is_validated() -> None:
    from worktree_tools.core.errors import InvalidInput
    from worktree_tools.remote.fence import Fence

    assert Fence.parse("deploy:7") == Fence("deploy", 7)
    for bad in ("deploy", "deploy:", ":3", "deploy:-1", "deploy:x", "a/b:1", "deploy:0"):
        with pytest.raises(InvalidInput):
            Fence.parse(bad)


def test_local_fence_refuses_a_stale_token_and_accepts_the_current_one(repo: Path) -> None:
    assert lease(repo, "acquire", "gen", "--ttl", INSTANT)["token"] == 1
    assert lease(repo, "acquire", "gen", "--ttl", "600", agent="a2")["token"] == 2
    before = head(repo)
    write(repo, "src/app.py", "print('late')\n")
    stale = driver(repo, "--fence", "gen:1", "-m", "late", "src/app.py")
    assert stale.returncode == 6 and head(repo) == before
    assert json.loads(stale.stdout)["outcome"] == "rejected"
    fresh = driver(repo, "--fence", "gen:2", "--agent", "a2", "-m", "current", "src/app.py")
    assert fresh.returncode == 0, fresh.stderr
    assert git(repo, "log", "-1", "--format=%s") == "current\n"


def test_a_lease_needs_a_named_holder(repo: Path) -> None:
    """Review finding: with the user@host fallback two processes were the same holder."""
    import json
    import os
    import subprocess
    import sys

    git_wt = os.fspath(Path(sys.executable).with_name("git-wt"))
    env = {k: v for k, v in os.environ.items() if k != "WT_AGENT"}
    proc = subprocess.run(
        [git_wt, "lease", "acquire", "deploy", "--ttl", "60", "--json"],
        cwd=repo, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2 and "--agent" in json.loads(proc.stdout)["fix"]
    ok = subprocess.run(
        [git_wt, "lease", "acquire", "deploy", "--ttl", "60", "--agent", "a", "--json"],
        cwd=repo, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
