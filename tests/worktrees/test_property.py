"""Random sequences of alloc, edit, commit, heartbeat, kill, release and gc: whatever happens,
no byte of uncommitted or unmerged work is lost (it is on disk, on a branch, or rescued)."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from conftest import git, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worktree_tools.commit.request import CommitRequest
from worktree_tools.commit.run import run as commit_run
from worktree_tools.core.errors import WtError
from worktree_tools.worktrees import alloc, gc, handoff, lease
from worktree_tools.worktrees.collect import GcItem
from worktree_tools.worktrees.common import open_repo
from worktree_tools.worktrees.records import RecordState

from .helpers import kill, spawn_owner

AGENTS = ["p0", "p1", "p2"]
FILES = ["a.bin", "sub/b.txt", "README"]

agent_ix = st.integers(0, len(AGENTS) - 1)
ops = st.one_of(
    st.tuples(st.just("alloc"), agent_ix),
    st.tuples(
        st.just("edit"),
        agent_ix,
        st.integers(0, len(FILES) - 1),
        st.binary(min_size=0, max_size=64),
        st.booleans(),
    ),
    st.tuples(st.just("commit"), agent_ix, st.integers(0, len(FILES) - 1)),
    st.tuples(st.just("heartbeat"), agent_ix),
    st.tuples(st.just("kill"), agent_ix),
    st.tuples(st.just("release"), agent_ix, st.sampled_from(["done", "handoff"])),
    st.tuples(st.just("gc")),
)


@dataclass
class Model:
    root: Path
    owners: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    # what each live worktree must still hold: path -> bytes written last
    latest: dict[str, dict[str, bytes]] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)


def _step(m: Model, op: tuple[object, ...]) -> None:
    repo = open_repo(m.root)
    kind = op[0]
    name = AGENTS[int(op[1])] if len(op) > 1 else ""  # type: ignore[call-overload]
    if kind == "alloc":
        owner = spawn_owner()
        m.procs.append(owner)
        res = alloc.alloc(repo, alloc.AllocRequest(name, m.root, owner_pid=owner.pid))
        m.owners[name] = owner
        m.paths[name] = Path(res.record.path)
        m.latest.setdefault(name, {})
    elif kind == "edit" and name in m.paths:
        rel = FILES[int(op[2])]  # type: ignore[call-overload]
        data = bytes(op[3])  # type: ignore[call-overload]
        write(m.paths[name], rel, data)
        if op[4]:
            git(m.paths[name], "add", "--", rel)
        m.latest[name][rel] = data
    elif kind == "commit" and name in m.paths:
        rel = FILES[int(op[2])]  # type: ignore[call-overload]
        try:
            result = commit_run(
                CommitRequest(paths=(rel,), cwd=m.paths[name], messages=("c",), agent=name)
            )
        except WtError:
            return
        if result.commit:
            m.commits.append(result.commit)
    elif kind == "heartbeat" and name in m.paths:
        with contextlib.suppress(WtError):
            lease.heartbeat(repo, name, owner_pid=m.owners[name].pid)
    elif kind == "kill" and name in m.owners:
        kill(m.owners[name])
    elif kind == "release" and name in m.paths:
        state = RecordState(str(op[2]))
        handoff.release(repo, handoff.ReleaseRequest(name, state))
    elif kind == "gc":
        collected = gc.gc(repo)
        for item in collected.items:
            if item.action == "removed":
                _check_saved(m, item)
                del m.paths[item.agent]
                m.latest[item.agent] = {}


def _check_saved(m: Model, item: GcItem) -> None:
    """Every byte the removed worktree held is in its rescue commit, or (when nothing was at
    risk) in the base branch."""
    ref = f"refs/wt/rescue/{item.rescue}" if item.rescue else "main"
    for rel, data in m.latest[item.agent].items():
        blob = subprocess.run(
            ["git", "cat-file", "blob", f"{ref}:{rel}"], cwd=m.root, capture_output=True
        )
        assert blob.returncode == 0 and blob.stdout == data, (item, rel)


def _check_invariants(m: Model) -> None:
    for name, path in m.paths.items():
        for rel, data in m.latest[name].items():
            assert (path / rel).read_bytes() == data, (name, rel)
    reachable = set(git(m.root, "rev-list", "--all").split())
    assert set(m.commits) <= reachable


@settings(
    max_examples=12,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(ops, min_size=3, max_size=16))
def test_no_work_is_ever_lost(repo: Path, steps: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "r"
        git(repo.parent, "clone", "-q", str(repo), str(root))
        m = Model(root)
        try:
            for op in [("alloc", 0), *steps, ("gc",)]:
                _step(m, op)
                _check_invariants(m)
        finally:
            for proc in m.procs:
                kill(proc)
