"""wt-commit --push against a real git daemon: fast-forward, replay, conflict, many machines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import git, git_wt, head, status, write

from .server import Server, clone, driver, ref_updates, spawn_driver


def push(cwd: Path, msg: str, *paths: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    proc = driver(cwd, "--push", *extra, "-m", msg, "--", *paths)
    assert proc.stdout, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    data["exit"] = proc.returncode
    return data


def remote_head(cwd: Path) -> str:
    return git(cwd, "ls-remote", "origin", "refs/heads/main").split()[0]


def test_fast_forward_push_lands_the_commit(origin: str, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    write(a, "src/app.py", "print('v2')\n")
    data = push(a, "v2", "src/app.py")
    assert data["exit"] == 0 and data["outcome"] == "committed"
    assert data["push"]["pushed"] == data["commit"] == remote_head(a) == head(a)
    assert data["push"]["replays"] == 0 and data["push"]["retries"] == 0


def test_moved_remote_other_paths_replays_and_moves_local_safely(
    origin: str, tmp_path: Path
) -> None:
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    write(b, "README", "from b\n")
    assert push(b, "b readme", "README")["exit"] == 0
    b_tip = remote_head(b)
    write(a, "src/app.py", "print('a')\n")
    write(a, "notes.txt", "a's uncommitted notes\n")  # untracked work in A stays put
    data = push(a, "a app", "src/app.py")
    assert data["exit"] == 0, data
    p = data["push"]
    assert p["replayed"] and p["replays"] == 1 and p["retries"] == 1
    assert p["pushed"] == remote_head(a) != data["commit"]
    # C' is C's change on B's commit: parent B, same message and author, both files.
    assert git(a, "rev-parse", f"{p['pushed']}^").strip() == b_tip
    assert git(a, "log", "-1", "--format=%s|%an|%ad", p["pushed"]) == git(
        a, "log", "-1", "--format=%s|%an|%ad", data["commit"]
    )
    assert git(a, "show", f"{p['pushed']}:README") == "from b\n"
    assert git(a, "show", f"{p['pushed']}:src/app.py") == "print('a')\n"
    # The local branch moved to C' with its index and files: nothing shows as a reversal.
    assert p["local_moved"] and head(a) == p["pushed"]
    assert (a / "README").read_text() == "from b\n"
    assert status(a) == "?? notes.txt\0"


def test_same_path_changed_is_a_conflict_and_keeps_the_local_commit(
    origin: str, tmp_path: Path
) -> None:
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    write(b, "src/app.py", "print('b')\n")
    assert push(b, "b app", "src/app.py")["exit"] == 0
    b_tip = remote_head(b)
    write(a, "src/app.py", "print('a')\n")
    data = push(a, "a app", "src/app.py")
    assert data["exit"] == 4 and data["outcome"] == "conflict"
    assert "src/app.py" in data["error"] and "intact" in data["error"]
    assert "git fetch origin main" in data["fix"]
    assert remote_head(a) == b_tip  # nothing of A's reached the server
    local = data["commit"]
    assert head(a) == local and git(a, "show", "HEAD:src/app.py") == "print('a')\n"


def test_replay_never_touches_a_modified_path_and_sync_finishes_later(
    origin: str, tmp_path: Path
) -> None:
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    write(b, "README", "from b\n")
    assert push(b, "b readme", "README")["exit"] == 0
    write(a, "README", "a is editing this\n")  # uncommitted, on a path B changed
    write(a, "src/app.py", "print('a')\n")
    data = push(a, "a app", "src/app.py")
    assert data["exit"] == 0
    p = data["push"]
    assert p["replayed"] and not p["local_moved"] and head(a) == data["commit"]
    assert "git wt sync" in p["note"]
    assert (a / "README").read_text() == "a is editing this\n"
    # Once README is clean again, sync sees the local commit is on the remote and catches up.
    git(a, "checkout", "--", "README")
    res = git_wt(a, "sync", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["worktrees"][0]["state"] == "fast_forwarded"
    assert head(a) == p["pushed"] and status(a) == ""


def test_four_machines_push_at_once(origin: str, server: Server, tmp_path: Path) -> None:
    machines, commits = 4, 5
    clones = [clone(origin, tmp_path / f"m{i}") for i in range(machines)]
    base = remote_head(clones[0])

    def machine(i: int, c: Path) -> subprocess.Popen[str]:
        loop = ["--loop", str(commits), "--prefix", f"m{i}", "--agent", f"m{i}"]
        return spawn_driver(c, "--push", "--retries", "60", *loop, "-m", f"m{i} commit", "--",
                            f"m{i}.txt")  # fmt: skip

    procs = [machine(i, c) for i, c in enumerate(clones)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        for line in out.splitlines():
            assert json.loads(line)["push"]["pushed"], line
    tip = remote_head(clones[0])
    fresh = clone(origin, tmp_path / "check")
    subjects = git(fresh, "log", "--format=%s", f"{base}..{tip}").splitlines()
    expected = {f"m{i} commit {k}" for i in range(machines) for k in range(commits)}
    assert sorted(subjects) == sorted(expected)  # every commit exactly once, none lost
    assert git(fresh, "rev-list", "--min-parents=2", f"{base}..{tip}") == ""  # linear
    for i in range(machines):
        assert (fresh / f"m{i}.txt").read_text() == f"m{i}-{commits - 1}\n"
    # Nothing force-pushed: every update of main on the server was a fast-forward.
    updates = ref_updates(server.bare("origin.git"), "refs/heads/main")
    assert len(updates) == machines * commits  # one per commit (logging began after seeding)
    assert updates[0][0] == base and updates[-1][1] == tip
    for old, new in updates:
        assert is_ancestor(fresh, old, new), (old, new)
    # The machines did race: some pushes were refused and replayed.
    stats = [json.loads(line)["push"] for out, _ in outs for line in out.splitlines()]
    assert sum(s["replays"] for s in stats) > 0


def is_ancestor(cwd: Path, a: str, b: str) -> bool:
    return subprocess.run(["git", "merge-base", "--is-ancestor", a, b], cwd=cwd).returncode == 0


def test_out_of_retries_keeps_the_commit_and_a_rerun_pushes_it(origin: str, tmp_path: Path) -> None:
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    write(b, "README", "from b\n")
    assert push(b, "b readme", "README")["exit"] == 0
    write(a, "src/app.py", "print('a')\n")
    data = push(a, "a app", "src/app.py", extra=("--retries", "0"))
    assert data["exit"] == 4 and "gave up after 1 pushes" in data["error"]
    local = head(a)
    assert git(a, "show", "HEAD:src/app.py") == "print('a')\n"
    # The same command again: nothing new to commit, and the commit already made is pushed.
    again = push(a, "a app", "src/app.py")
    assert again["exit"] == 0 and again["outcome"] == "unchanged"
    assert again["push"]["commit"] == local and again["push"]["replayed"]
    assert remote_head(a) == again["push"]["pushed"] == head(a)


def test_push_and_fence_modules_keep_the_hot_path_light() -> None:
    code = (
        "import sys, worktree_tools.remote.push, worktree_tools.remote.fence;"
        "print(sorted(m for m in ('pygit2', 'psutil', 'click') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_replayed_deletion_stays_a_deletion(origin: str, tmp_path: Path) -> None:
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    write(b, "src/app.py", "print('b')\n")
    assert push(b, "b app", "src/app.py")["exit"] == 0
    (a / "README").unlink()
    data = push(a, "drop readme", "README")
    assert data["exit"] == 0 and data["push"]["replayed"], data
    tree = git(a, "ls-tree", "-r", "--name-only", data["push"]["pushed"]).split()
    assert tree == ["src/app.py"]
    assert git(a, "show", f"{data['push']['pushed']}:src/app.py") == "print('b')\n"
    assert head(a) == data["push"]["pushed"] and status(a) == ""
