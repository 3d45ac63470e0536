"""A fencing token proves nothing by itself: only the lease's holder may commit under it,
and a fenced commit (or push) never renews the lease."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import git, head, write

from .server import clone, driver
from .test_lease import lease


def test_another_agent_with_the_right_token_is_refused(repo: Path) -> None:
    assert lease(repo, "acquire", "gen", "--ttl", "600", agent="owner")["token"] == 1
    before = head(repo)
    write(repo, "src/app.py", "print('intruder')\n")
    stolen = driver(repo, "--fence", "gen:1", "--agent", "intruder", "-m", "x", "src/app.py")
    assert stolen.returncode == 6, stolen.stderr
    out = json.loads(stolen.stdout)
    assert out["outcome"] == "rejected" and out["holder"] == "owner" and "--agent" in out["fix"]
    assert head(repo) == before
    ok = driver(repo, "--fence", "gen:1", "--agent", "owner", "-m", "mine", "src/app.py")
    assert ok.returncode == 0, ok.stderr


def test_a_fenced_push_from_another_agent_is_refused_and_renews_nothing(
    origin: str, tmp_path: Path
) -> None:
    a = clone(origin, tmp_path / "a")
    r = ("--remote", "origin")
    held = lease(a, "acquire", "main", *r, "--ttl", "600", agent="owner")
    remote_before = git(a, "ls-remote", "origin", "refs/heads/main").split()[0]
    write(a, "README", "intruder\n")
    stolen = driver(a, "--push", "--fence", "main:1", "--agent", "intruder", "-m", "x", "README")
    assert stolen.returncode == 6, stolen.stderr
    assert git(a, "ls-remote", "origin", "refs/heads/main").split()[0] == remote_before
    after = lease(a, "list", *r)["leases"][0]
    assert after["renewed_at"] == held["renewed_at"] and after["record_oid"] == held["record_oid"]


def test_a_fenced_push_by_the_holder_does_not_renew_the_lease(origin: str, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    r = ("--remote", "origin")
    held = lease(a, "acquire", "main", *r, "--ttl", "600", agent="owner")
    write(a, "README", "owner\n")
    ok = driver(a, "--push", "--fence", "main:1", "--agent", "owner", "-m", "x", "README")
    assert ok.returncode == 0, ok.stderr
    after = lease(a, "list", *r)["leases"][0]
    assert after["record_oid"] != held["record_oid"]  # the push moved the lease ref atomically...
    assert after["renewed_at"] == held["renewed_at"]  # ...to the same record: not renewed
    assert after["expires_at"] == held["expires_at"] and after["token"] == 1
