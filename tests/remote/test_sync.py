"""git wt sync: fast-forward only, under the repository lock; everything else is reported."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import GIT_WT, WT_COMMIT, git, git_wt, head, snapshot, status, write

from .server import clone


def sync(cwd: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    proc = git_wt(cwd, "sync", "--json", *args)
    return proc.returncode, json.loads(proc.stdout)


def advance_remote(url: str, where: Path, rel: str, content: str) -> str:
    """Another machine pushes a commit changing `rel`; the new remote tip."""
    other = where if where.exists() else clone(url, where)
    git(other, "pull", "-q", "--ff-only")
    write(other, rel, content)
    git(other, "add", "--", rel)
    git(other, "commit", "-qm", f"other: {rel}")
    git(other, "push", "-q", "origin", "main")
    return head(other)


def test_behind_is_fast_forwarded_with_index_and_files(origin: str, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    write(a, "scratch.txt", "untracked\n")
    before = head(a)
    tip = advance_remote(origin, tmp_path / "b", "new.txt", "from b\n")
    code, data = sync(a)
    assert code == 0 and data["outcome"] == "ok"
    row = data["worktrees"][0]
    assert (row["state"], row["before"], row["after"]) == ("fast_forwarded", before, tip)
    assert head(a) == tip and (a / "new.txt").read_text() == "from b\n"
    assert status(a) == "?? scratch.txt\0"
    assert git(a, "rev-parse", "origin/main").strip() == tip  # tracking ref kept current
    code, data = sync(a)
    assert code == 0 and data["worktrees"][0]["state"] == "up_to_date"


def test_dirty_ahead_and_diverged_are_reported_not_touched(origin: str, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    advance_remote(origin, tmp_path / "b", "README", "b's readme\n")
    write(a, "src/app.py", "print('uncommitted')\n")
    frozen, before = snapshot(a), head(a)
    code, data = sync(a)
    assert code == 7 and data["worktrees"][0]["state"] == "dirty"
    # The branch, the index bytes and the status are untouched (only origin/main was fetched).
    assert snapshot(a)[1:3] == frozen[1:3] and head(a) == before
    # A local commit on top of the remote's tip: ahead, fine, not touched.
    git(a, "pull", "-q", "--ff-only")
    git(a, "commit", "-qam", "local work")
    code, data = sync(a)
    assert code == 0 and data["worktrees"][0]["state"] == "ahead"
    # The remote moves too: diverged, reported, not touched (no merge, no rebase).
    local = head(a)
    advance_remote(origin, tmp_path / "b", "new.txt", "b again\n")
    code, data = sync(a)
    assert code == 7 and data["worktrees"][0]["state"] == "diverged"
    assert head(a) == local and status(a) == ""


def test_all_worktrees(origin: str, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    git(a, "push", "-q", "origin", "main:side")
    git(a, "worktree", "add", "-q", "-b", "side", str(tmp_path / "a-side"), "main")
    git(a, "worktree", "add", "-q", "-b", "local-only", str(tmp_path / "a-local"), "main")
    b = clone(origin, tmp_path / "b")
    write(b, "README", "b\n")
    git(b, "commit", "-qam", "b")
    git(b, "push", "-q", "origin", "main", "main:side")
    code, data = sync(a, "--all")
    states = {Path(w["worktree"]).name: w["state"] for w in data["worktrees"]}
    assert states == {
        "a": "fast_forwarded",
        "a-side": "fast_forwarded",
        "a-local": "no_remote_branch",
    }
    assert code == 0
    assert (tmp_path / "a-side" / "README").read_text() == "b\n"


def test_sync_racing_a_wt_commit_in_the_same_worktree_loses_nothing(
    origin: str, tmp_path: Path
) -> None:
    """Sync moves the branch while wt-commit lands on it: whichever goes first, the other copes
    (wt-commit replays onto the moved branch; sync reports the new local commit), and the
    worktree never shows a reversal."""
    for n in range(4):
        a = clone(origin, tmp_path / f"a{n}")
        tip = advance_remote(origin, tmp_path / "b", f"b{n}.txt", f"b{n}\n")
        write(a, f"a{n}.txt", f"a{n}\n")
        commit_argv = [WT_COMMIT, "--json", "-m", f"a{n}", "--", f"a{n}.txt"]
        procs = [
            subprocess.Popen([GIT_WT, "sync", "--json"], cwd=a, stdout=subprocess.PIPE, text=True),
            subprocess.Popen(
                # Odd rounds start the commit a little later, so both orders get exercised
                # (the assertions hold whichever order happens).
                ["sh", "-c", f'sleep {0.3 * (n % 2)}; exec "$0" "$@"', *commit_argv],
                cwd=a,
                stdout=subprocess.PIPE,
                text=True,
            ),
        ]
        outs = [p.communicate(timeout=120)[0] for p in procs]
        synced, committed = (json.loads(o) for o in outs)
        assert committed["outcome"] == "committed", committed
        state = synced["worktrees"][0]["state"]
        assert state in ("fast_forwarded", "diverged"), synced
        assert git(a, "show", f"HEAD:a{n}.txt") == f"a{n}\n"
        if state == "fast_forwarded":
            assert git(a, "show", f"HEAD:b{n}.txt") == f"b{n}\n"
            assert committed["replays"] == 1 or committed["parent"] == tip
        assert status(a) == ""  # index == HEAD and files == index: nothing reversed


def test_unreachable_remote_is_rejected_and_nothing_changes(repo: Path) -> None:
    frozen = snapshot(repo)
    nowhere = "git://127.0.0.1:1/nothing.git"  # port 1: connection refused at once
    for argv in (["sync", "--remote", nowhere], ["lease", "list", "--remote", nowhere]):
        proc = git_wt(repo, *argv, "--json")
        assert proc.returncode == 6, proc.stderr
        assert json.loads(proc.stdout)["outcome"] == "rejected"
    assert snapshot(repo)[:3] == frozen[:3]


def test_text_output(origin: str, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    out = git_wt(a, "sync").stdout
    assert out.startswith("up_to_date: main in ")
    out = git_wt(a, "lease", "acquire", "deploy", "--ttl", "60", "--agent", "a1").stdout
    assert out.startswith("deploy: held by a1 on ") and "token 1" in out
