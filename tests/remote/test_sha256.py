"""Leases in a SHA-256 repository: the record commit's empty tree is this format's."""

from __future__ import annotations

from pathlib import Path

from conftest import write

from .server import driver
from .test_lease import lease


def test_local_lease_lifecycle_and_fence(sha256_repo: Path) -> None:
    got = lease(sha256_repo, "acquire", "gen", "--ttl", "600")
    assert got["exit"] == 0 and got["token"] == 1 and len(got["record_oid"]) == 64
    assert lease(sha256_repo, "renew", "gen", "--token", "1")["exit"] == 0
    write(sha256_repo, "src/app.py", "print('fenced')\n")
    ok = driver(sha256_repo, "--fence", "gen:1", "--agent", "a1", "-m", "x", "src/app.py")
    assert ok.returncode == 0, ok.stderr
    assert lease(sha256_repo, "release", "gen")["state"] == "released"
    assert [x["state"] for x in lease(sha256_repo, "list")["leases"]] == ["released"]
