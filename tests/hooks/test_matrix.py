"""The issue's matrix: {pre-commit, husky + lint-staged, lefthook} x {isolated, in-place, plain
git through the shims} for two worktrees committing at once with unstaged and partially staged
files, and for commits in one worktree while someone else edits and creates files. The race
windows are widened by the check waiting on a flag file, never by sleeping."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import WT_COMMIT, git, git_wt, write
from hookmanagers import project

MODES = ("isolated", "in-place", "plain")


def _commit(cwd: Path, mode: str, path: str, env: dict[str, str]) -> subprocess.Popen[str]:
    if mode == "plain":
        git(cwd, "add", path)
        cmd = ["git", "commit", "-qm", f"{path} by plain git", "--", path]
    else:
        cmd = [WT_COMMIT, "--hooks", mode, "-m", f"{path} by {mode}", "--", path]
    return subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **env}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def _wait_for(path: Path, procs: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        for p in procs:
            assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)


def _dirty(wt: Path) -> dict[str, str]:
    """Unstaged work in a tracked file, and a partially staged file (index and file differ)."""
    write(wt, "notes.js", "const notes = 'unstaged, not named';\n")
    write(wt, "part.js", "const part = 'staged half';\n")
    git(wt, "add", "part.js")
    write(wt, "part.js", "const part = 'staged half';\nconst more = 'unstaged half';\n")
    return {
        "notes.js": (wt / "notes.js").read_text(),
        "part.js": (wt / "part.js").read_text(),
        ":part.js": git(wt, "show", ":part.js"),
    }


def _still(wt: Path, saved: dict[str, str]) -> None:
    for key, text in saved.items():
        got = git(wt, "show", key) if key.startswith(":") else (wt / key).read_text()
        assert got == text, (wt, key, got)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("manager", ["husky", "lefthook", "lefthook-2.1", "pre-commit"])
def test_two_worktrees_commit_at_once(repo: Path, tmp_path: Path, manager: str, mode: str) -> None:
    project(repo, manager)
    write(repo, "notes.js", "const notes = 1;\n")
    write(repo, "part.js", "const part = 1;\n")
    git(repo, "add", "notes.js", "part.js")
    git(repo, "commit", "-qm", "tracked files")
    w2 = tmp_path / "w2"
    git(repo, "worktree", "add", "-q", "-b", "w2", os.fspath(w2))
    os.symlink(os.readlink(repo / "node_modules"), w2 / "node_modules")
    # Installed from the main worktree: husky's hooks directory (.husky/_, git-ignored) is
    # per worktree, and install gives every worktree its hooks.
    assert git_wt(repo, "hooks", "install").returncode == 0
    git(repo, "stash", "push", "-q", "-m", "a person's stash", "--", "notes.js")  # bystander
    stash_before = git(repo, "stash", "list", "--format=%H %gs")
    saved = {wt: _dirty(wt) for wt in (repo, w2)}
    write(repo, "a.js", "const a = 'BAD';\n")  # W1's check fails
    # W2's passes; its fixer rewrites it (the pre-commit framework refuses a commit its fixer
    # changed, so there it has nothing to fix).
    write(w2, "a.js", "const a = 2;\n" if manager == "pre-commit" else "const   a = 2\n")
    flag = tmp_path / "flag"
    env = {"HOOK_WAIT_FOR": os.fspath(flag)}
    p1 = _commit(repo, mode, "a.js", env)
    _wait_for(Path(f"{flag}.waiting"), [p1])  # W1 is inside its hooks, stash and all
    p2 = _commit(w2, mode, "a.js", env)
    time.sleep(0.5)  # room for W2 to (wrongly) interleave; asserted on outcomes only
    flag.touch()
    out1, out2 = p1.communicate(timeout=120), p2.communicate(timeout=120)
    assert p1.returncode != 0 and "BAD in" in "".join(out1), out1
    assert p2.returncode == 0, out2
    assert "BAD" in (repo / "a.js").read_text()  # (possibly with the fixer's fix carried back)
    assert git(repo, "log", "-1", "--format=%s", "--", "a.js") == ""
    assert git(w2, "show", "HEAD:a.js") == "const a = 2;\n"
    assert (w2 / "a.js").read_text() == "const a = 2;\n"  # the fix is in the live file too
    for wt in (repo, w2):
        _still(wt, saved[wt])
    assert git(repo, "stash", "list", "--format=%H %gs") == stash_before


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("manager", ["husky", "lefthook", "pre-commit"])
def test_commits_while_someone_edits_and_creates_files(
    repo: Path, tmp_path: Path, manager: str, mode: str
) -> None:
    project(repo, manager)
    write(repo, "other.js", "const other = 1;\n")
    git(repo, "add", "other.js")
    git(repo, "commit", "-qm", "other")
    assert git_wt(repo, "hooks", "install").returncode == 0
    flag = tmp_path / "flag"
    write(repo, "a.js", "const a = 1;\n")
    p1 = _commit(repo, mode, "a.js", {"HOOK_WAIT_FOR": os.fspath(flag)})
    _wait_for(Path(f"{flag}.waiting"), [p1])
    # Another agent, while the hooks run: edits a tracked file, creates a new one.
    write(repo, "other.js", "const other = 'edited meanwhile';\n")
    write(repo, "new.js", "const created = 'meanwhile';\n")
    flag.touch()
    out = p1.communicate(timeout=120)
    if p1.returncode != 0:
        # In the live worktree the pre-commit framework sees the other agent's edit appear
        # under its hook and refuses the commit ("files were modified by this hook").
        assert manager == "pre-commit" and mode != "isolated", out
        assert "files were modified by this hook" in "".join(out)
        assert (repo / "other.js").read_text() == "const other = 'edited meanwhile';\n"
        assert (repo / "new.js").read_text() == "const created = 'meanwhile';\n"
        return
    write(repo, "b.js", "const b = 1;\n")
    p2 = _commit(repo, mode, "b.js", {})
    assert p2.wait(120) == 0, p2.communicate()
    assert git(repo, "log", "--format=%s", "-2").split("\n")[:2][::-1] == [
        f"a.js by {'plain git' if mode == 'plain' else mode}",
        f"b.js by {'plain git' if mode == 'plain' else mode}",
    ]
    assert (repo / "other.js").read_text() == "const other = 'edited meanwhile';\n"
    assert (repo / "new.js").read_text() == "const created = 'meanwhile';\n"
