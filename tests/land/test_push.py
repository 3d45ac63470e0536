"""`git wt land --push`: landers on four machines (clones) into one remote branch served by a
real git daemon; the order is settled by fast-forward pushes, never forced, nothing lost."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git, run_all, status
from remote.server import Server, clone, git_daemon, make_bare, no_force_policy, ref_updates

from .helpers import CHECK, agent, checked_trees, land, spawn_land

MACHINES = 4


@pytest.fixture
def origin(tmp_path: Path, repo: Path) -> Iterator[tuple[Server, str]]:
    with git_daemon(tmp_path / "srv") as srv:
        url = make_bare(srv, "origin.git", repo)
        no_force_policy(srv.bare("origin.git"))
        yield srv, url


def _is_ancestor(bare: Path, a: str, b: str) -> bool:
    res = subprocess.run(["git", "-C", str(bare), "merge-base", "--is-ancestor", a, b])
    return res.returncode == 0


def test_four_machines_land_into_the_remote(
    origin: tuple[Server, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    srv, url = origin
    log = tmp_path / "checks.log"
    monkeypatch.setenv("LAND_CHECK_LOG", str(log))
    machines = [clone(url, tmp_path / f"m{i}") for i in range(MACHINES)]
    for i, m in enumerate(machines):
        agent(m, f"a{i}", {f"m{i}.txt": f"{i}\n"}, f"a{i}: work")
    procs = [
        spawn_land(m, f"a{i}", "--into", "main", "--push", "--check", CHECK)
        for i, m in enumerate(machines)
    ]
    codes = run_all(procs)
    outs = [json.loads(p.stdout.read() if p.stdout else "{}") for p in procs]
    assert codes == [0] * MACHINES, outs
    assert all(o["outcome"] == "landed" and o["remote"] == "origin" for o in outs)
    bare = srv.bare("origin.git")
    log_lines = git(bare, "log", "--format=%s", "main").splitlines()
    assert sorted(line for line in log_lines if line != "initial") == sorted(
        f"a{i}: work" for i in range(MACHINES)
    )
    # never forced: every update of the server's branch was a fast-forward
    for old, new in ref_updates(bare, "refs/heads/main"):
        assert set(old) == {"0"} or _is_ancestor(bare, old, new), (old, new)
    # every tree that landed was checked by the machine that pushed it
    landed_trees = git(bare, "log", "--format=%T", "main", "--not", "main~4").split()
    assert len(landed_trees) == MACHINES and set(landed_trees) <= set(checked_trees(log))
    # a machine whose main was behind follows the remote, its checkout with it
    last = next(
        m
        for m, o in zip(machines, outs, strict=True)
        if o["commit"] == git(bare, "rev-parse", "main").strip()
    )
    assert git(last, "rev-parse", "main").strip() == git(bare, "rev-parse", "main").strip()
    assert status(last) == ""
    # landing again from any machine: unchanged
    again = land(machines[0], "a0", "--into", "main", "--push")
    assert again["outcome"] == "unchanged"
