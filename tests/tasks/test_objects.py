"""How a claim reads and writes the board's objects: few git processes, SHA-1 and SHA-256 alike,
and a board that a hand edit made odd (extra top-level files, a subdirectory in tasks/) kept."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from conftest import git, git_commands, git_wt
from hypothesis import example, given
from hypothesis import strategies as st

from worktree_tools.tasks.objects import blob_id

from .helpers import board_file, seed, task


def _git_commands(repo: Path, tmp_path: Path, *args: str) -> list[str]:
    """The git commands one `git wt task ARGS` runs (GIT_TRACE names each git process)."""
    trace = tmp_path / "trace"
    trace.unlink(missing_ok=True)
    proc = git_wt(repo, "task", *args, "--json", env={"GIT_TRACE": str(trace)})
    assert proc.returncode == 0, proc.stderr
    return [command.split(" ")[0] for command in git_commands(trace)]


def test_a_claim_runs_eight_git_processes(repo: Path, tmp_path: Path) -> None:
    """Fails on the code before: `git config` twice and an `ls-tree` (10 processes)."""
    seed(repo, 20)
    ran = _git_commands(repo, tmp_path, "claim", "T0005", "--agent", "a1")
    assert ran.count("config") == 1 and "ls-tree" not in ran, ran
    assert len(ran) <= 8, ran
    ran = _git_commands(repo, tmp_path, "next", "--agent", "a2")
    assert len(ran) <= 8, ran


@pytest.mark.parametrize("fixture", ["repo", "sha256_repo"])
def test_the_whole_cycle_in_either_hash(fixture: str, request: pytest.FixtureRequest) -> None:
    repo: Path = request.getfixturevalue(fixture)
    seed(repo, 3)
    got = task(repo, "next", agent="a1")
    assert got["exit"] == 0 and got["task_id"] == "T0000" and got["token"] == 1
    assert task(repo, "heartbeat", "T0000", agent="a1")["exit"] == 0
    rival = task(repo, "claim", "T0000", agent="a2")
    assert rival["exit"] == 6 and rival["holder"] == "a1"
    done = task(repo, "done", "T0000", "--token", "1", agent="a1")
    assert done["exit"] == 0 and done["task"]["state"] == "done"
    assert "state: done" in board_file(repo, "T0000")
    listed = task(repo, "list")
    assert [t["state"] for t in listed["tasks"]] == ["done", "open", "open"]
    # Every object the board names is there and well formed.
    assert git(repo, "fsck", "--no-dangling", "--strict").strip() == ""
    claim = git(repo, "cat-file", "-p", "refs/wt/claims/T0000")
    assert '"released": true' in claim


def test_odd_entries_on_the_board_are_kept(repo: Path) -> None:
    """A file beside tasks/ and a directory inside it (added by hand) survive a claim."""
    seed(repo, 2)
    tip = git(repo, "rev-parse", "wt/tasks").strip()
    readme = git(repo, "hash-object", "-w", "--stdin", input=b"the board\n").strip()
    nested = git(repo, "mktree", input=f"100644 blob {readme}\tnote.txt\n".encode()).strip()
    tasks = git(repo, "rev-parse", f"{tip}:tasks").strip()
    listing = git(repo, "ls-tree", tasks)
    sub = git(repo, "mktree", input=(listing + f"040000 tree {nested}\tnotes\n").encode()).strip()
    top = f"100644 blob {readme}\tREADME\n040000 tree {sub}\ttasks\n"
    root = git(repo, "mktree", input=top.encode())
    commit = git(repo, "commit-tree", root.strip(), "-p", tip, "-m", "by hand").strip()
    git(repo, "update-ref", "refs/heads/wt/tasks", commit, tip)
    assert task(repo, "claim", "T0001", agent="a1")["exit"] == 0
    files = git(repo, "ls-tree", "-r", "--name-only", "wt/tasks").split()
    assert files == ["README", "tasks/T0000.md", "tasks/T0001.md", "tasks/notes/note.txt"]
    assert "state: claimed" in board_file(repo, "T0001")


def test_a_claim_ref_naming_a_missing_object_is_reported(repo: Path) -> None:
    """`list` reports it (exit 7, with the repair command) and `next` goes on; no traceback."""
    seed(repo, 2)
    assert task(repo, "claim", "T0000", agent="a1")["exit"] == 0
    missing = "0123456789abcdef0123456789abcdef01234567"
    ref = repo / ".git" / "refs" / "wt" / "claims" / "T0000"
    git(repo, "pack-refs", "--all")  # the ref may be packed; write it loose, by hand
    ref.parent.mkdir(parents=True, exist_ok=True)
    ref.write_text(missing + "\n")
    listed = task(repo, "list")
    assert listed["exit"] == 7, listed
    assert any(missing in e["fix"] for e in listed["errors"]), listed["errors"]
    got = task(repo, "next", agent="a2")
    assert got["exit"] == 0 and got["task_id"] == "T0001"


@given(st.binary(max_size=4096))
@example(b"")
def test_blob_ids_are_what_hashlib_and_git_compute(data: bytes) -> None:
    """blob_id hashes with CPython's C modules instead of hashlib's OpenSSL ones."""
    header = b"blob %d\0" % len(data)
    assert blob_id(data, 20) == hashlib.sha1(header + data).hexdigest()
    assert blob_id(data, 32) == hashlib.sha256(header + data).hexdigest()


def test_a_blob_id_is_gits(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    for data in (b"", b"x\n", bytes(range(256)) * 40):
        blob.write_bytes(data)
        want = subprocess.run(["git", "hash-object", str(blob)], capture_output=True, text=True)
        assert blob_id(data, 20) == want.stdout.strip()
