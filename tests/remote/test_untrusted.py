"""A lease ref anyone with push access can plant: out-of-range numbers and other malformed
records are reported as corrupt (list) or refused (acquire, renew), never a traceback, and
never taken as a free lease."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git, git_wt

from .test_lease import lease

GOOD = (
    '{"acquired_at": 1.0, "holder": "mallory", "host": "h", "name": "deploy", "pid": 1, '
    '"released": false, "renewed_at": 9999999999.0, "token": 5, "ttl": 60.0}'
)


def plant(repo: Path, body: str, name: str = "deploy") -> str:
    tree = git(repo, "mktree", input=b"").strip()
    oid = git(repo, "commit-tree", tree, "-m", f"wt lease {name}\n\n{body}").strip()
    git(repo, "update-ref", f"refs/wt/leases/{name}", oid)
    return oid


@pytest.mark.parametrize(
    "body",
    [
        GOOD.replace('"pid": 1', '"pid": 1e400'),
        GOOD.replace('"ttl": 60.0', '"ttl": NaN'),
        GOOD.replace('"token": 5', '"token": 1e400'),
        GOOD.replace('"renewed_at": 9999999999.0', '"renewed_at": -Infinity'),
        GOOD.replace('"pid": 1', '"pid": "1"'),
        GOOD.replace('"holder": "mallory"', '"holder": null'),
        GOOD.replace('"released": false', '"released": "no"'),
        GOOD[:40],
        "\udcff",
        "null",
    ],
    ids=[
        "pid-1e400",
        "ttl-nan",
        "token-1e400",
        "renewed--inf",
        "pid-str",
        "holder-null",
        "released-str",
        "truncated",
        "not-utf8",
        "null",
    ],
)
def test_a_planted_lease_record_is_corrupt_everywhere(repo: Path, body: str) -> None:
    oid = plant(repo, body.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    ref_before = git(repo, "rev-parse", "refs/wt/leases/deploy")
    listed = git_wt(repo, "lease", "list", "--json")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    (row,) = json.loads(listed.stdout)["leases"]
    assert row["state"] == "corrupt" and row["record_oid"] == oid
    assert "git cat-file -p" in row["fix"] and "refs/wt/leases/deploy" in row["fix"]
    for args in (["acquire", "deploy", "--ttl", "60"], ["renew", "deploy"]):
        got = lease(repo, *args)
        assert got["exit"] == 6 and "corrupt" in got["error"], got
    assert git(repo, "rev-parse", "refs/wt/leases/deploy") == ref_before  # nothing replaced


def test_a_valid_planted_record_is_respected(repo: Path) -> None:
    plant(repo, GOOD)
    got = lease(repo, "acquire", "deploy", "--ttl", "60")
    assert got["exit"] == 4  # held by mallory: conflict, as for any holder
