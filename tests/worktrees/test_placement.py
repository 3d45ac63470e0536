"""Where worktrees live: outside the git dir (where Jest and pytest find their tests), the
refused `.git` locations, and `git wt move` (with crashes at chosen points)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git, git_wt, snapshot, write, wt_commit
from npmtools import COMMON, link_node_modules

from .helpers import alloc, kill, record_path, spawn_owner, wt_json

JEST_TEST = "const sum = require('./sum');\ntest('adds', () => { expect(sum(1, 2)).toBe(3); });\n"


def _js_project(repo: Path) -> None:
    write(repo, "package.json", '{"name": "demo", "private": true, "jest": {}}\n')
    write(repo, "sum.js", "module.exports = (a, b) => a + b;\n")
    write(repo, "sum.test.js", JEST_TEST)
    write(repo, ".gitignore", "node_modules\n")
    git(repo, "add", "package.json", "sum.js", "sum.test.js", ".gitignore")
    git(repo, "commit", "-qm", "js project")


def _jest(tree: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = link_node_modules(tree, *COMMON)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["CI"] = "1"
    return subprocess.run(
        [os.fspath(bin_dir / "jest"), "--ci", "--watchman=false"],
        cwd=tree,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_default_placement_is_beside_the_main_worktree(repo: Path, tmp_path: Path) -> None:
    path = alloc(repo, "a1")
    assert path == tmp_path / "repo.worktrees" / "a1"
    assert ".git" not in path.parts
    assert git(repo, "status", "--porcelain") == ""


def test_real_jest_runs_the_tests_of_a_fresh_worktree(repo: Path) -> None:
    _js_project(repo)
    tree = alloc(repo, "a1")
    ran = _jest(tree)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 passed" in ran.stderr
    write(tree, "sum.js", "module.exports = (a, b) => a - b;\n")
    failed = _jest(tree)
    assert failed.returncode == 1 and "1 failed" in failed.stderr


def test_real_jest_finds_nothing_under_the_old_default(repo: Path) -> None:
    """The baseline the move fixes: the same files inside .git/ are invisible to Jest."""
    _js_project(repo)
    res = git_wt(repo, "alloc", "old", "--owner-pid", "0", "--path", ".git/wt/trees/old")
    assert res.returncode == 0
    assert "skip paths inside .git" in res.stderr and "git wt move old" in res.stderr
    ran = _jest(Path(res.stdout.strip()))
    assert ran.returncode != 0 and "No tests found" in ran.stdout + ran.stderr
    moved = wt_json(repo, "move", "old")
    assert _jest(Path(moved["worktree"])).returncode == 0


def test_pytest_runs_the_tests_of_a_fresh_worktree(repo: Path) -> None:
    write(repo, "tests/test_math.py", "def test_adds():\n    assert 1 + 2 == 3\n")
    git(repo, "add", "tests")
    git(repo, "commit", "-qm", "tests")
    tree = alloc(repo, "a1")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PYTEST_"))}
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tree,
        capture_output=True,
        text=True,
        env=env,
    )
    assert ran.returncode == 0 and "1 passed" in ran.stdout, ran.stdout + ran.stderr


@pytest.mark.parametrize("where", [".git/trees", ".git", "sub/.git/x"])
def test_worktree_dir_inside_a_git_dir_is_refused(repo: Path, where: str) -> None:
    git(repo, "config", "wt.worktreeDir", where)
    before = snapshot(repo)
    res = git_wt(repo, "alloc", "a1", "--owner-pid", "0", "--json")
    assert res.returncode == 2
    data = json.loads(res.stdout)
    assert data["outcome"] == "invalid" and "inside" in data["error"] and "Jest" in data["error"]
    assert data["fix"].startswith("git config --unset wt.worktreeDir")
    assert snapshot(repo) == before and not record_path(repo, "a1").exists()


def test_worktree_dir_through_a_link_into_the_git_dir_is_refused(
    repo: Path, tmp_path: Path
) -> None:
    (tmp_path / "sneaky").symlink_to(repo / ".git")
    git(repo, "config", "wt.worktreeDir", os.fspath(tmp_path / "sneaky" / "trees"))
    res = git_wt(repo, "alloc", "a1", "--owner-pid", "0")
    assert res.returncode == 2 and "inside the git directory" in res.stderr


def _old_default(repo: Path, agent: str) -> Path:
    res = git_wt(repo, "alloc", agent, "--owner-pid", "0", "--path", f".git/wt/trees/{agent}")
    assert res.returncode == 0, res.stderr
    return Path(res.stdout.strip())


def test_move_relocates_an_old_default_worktree(repo: Path, tmp_path: Path) -> None:
    old = _old_default(repo, "a1")
    write(old, "work.txt", "uncommitted\n")
    write(old, "src/app.py", "print('v2')\n")
    assert wt_commit(old, "-m", "v2", "--", "src/app.py").returncode == 0
    data = wt_json(repo, "move", "a1")
    new = tmp_path / "repo.worktrees" / "a1"
    assert data["outcome"] == "ok" and data["worktree"] == os.fspath(new)
    assert data["previous_worktree"] == os.fspath(old) and not old.exists()
    assert (new / "work.txt").read_text() == "uncommitted\n"
    listing = git(repo, "worktree", "list", "--porcelain")
    assert f"worktree {new}\n" in listing and "locked git wt: owned by a1" in listing
    assert json.loads(record_path(repo, "a1").read_text())["path"] == os.fspath(new)
    write(new, "src/app.py", "print('v3')\n")
    assert wt_commit(new, "-m", "v3", "--", "src/app.py").returncode == 0
    assert wt_json(repo, "status", "a1")["worktrees"][0]["worktree"] == os.fspath(new)
    assert wt_json(repo, "alloc", "a1", "--owner-pid", "0")["worktree"] == os.fspath(new)
    again = wt_json(repo, "move", "a1")
    assert again["outcome"] == "unchanged"


def test_move_into_an_existing_directory_and_back_out(repo: Path, tmp_path: Path) -> None:
    tree = alloc(repo, "a1")
    (tmp_path / "elsewhere").mkdir()
    data = wt_json(repo, "move", "a1", os.fspath(tmp_path / "elsewhere"))
    assert data["worktree"] == os.fspath(tmp_path / "elsewhere" / "a1")
    assert wt_json(repo, "move", "a1")["worktree"] == os.fspath(tree)


@pytest.mark.parametrize(
    ("dest", "code", "message"),
    [(".git/wt/trees/x", 2, "inside"), ("taken", 2, "already exists")],
)
def test_move_bad_destination_changes_nothing(
    repo: Path, tmp_path: Path, dest: str, code: int, message: str
) -> None:
    tree = alloc(repo, "a1")
    (repo / "taken").symlink_to(tmp_path)
    before = snapshot(repo)
    res = git_wt(repo, "move", "a1", dest, "--json")
    assert res.returncode == code and message in json.loads(res.stdout)["error"]
    assert snapshot(repo) == before and tree.is_dir()


def test_move_refuses_a_live_owner_unless_forced(repo: Path, tmp_path: Path) -> None:
    owner = spawn_owner()
    try:
        tree = alloc(repo, "a1", owner=owner.pid)
        res = git_wt(repo, "move", "a1", os.fspath(tmp_path / "x"))
        assert res.returncode == 6 and "is alive" in res.stderr and tree.is_dir()
        forced = git_wt(repo, "move", "a1", os.fspath(tmp_path / "x"), "--force")
        assert forced.returncode == 0 and (tmp_path / "x" / "README").exists()
    finally:
        kill(owner)


@pytest.mark.parametrize("point", ["wt-move-intent", "wt-move-moved"])
def test_move_killed_midway_is_finished_by_the_next_command(
    repo: Path, tmp_path: Path, point: str
) -> None:
    old = _old_default(repo, "a1")
    write(old, "work.txt", "keep me\n")
    res = git_wt(repo, "move", "a1", env={"WT_FAULT": point})
    assert res.returncode == -9
    # the next command that looks at a1 finds its worktree wherever the crash left it
    path = Path(wt_json(repo, "alloc", "a1", "--owner-pid", "0")["worktree"])
    assert (path / "work.txt").read_text() == "keep me\n"
    assert gitdir_points_back(path)
    final = wt_json(repo, "move", "a1")
    new = tmp_path / "repo.worktrees" / "a1"
    assert final["worktree"] == os.fspath(new) and (new / "work.txt").exists()
    assert "locked git wt: owned by a1" in git(repo, "worktree", "list", "--porcelain")
    assert not (record_path(repo, "a1").parent / "move.json").exists()


def test_a_hand_made_git_worktree_move_is_followed(repo: Path, tmp_path: Path) -> None:
    tree = alloc(repo, "a1")
    git(repo, "worktree", "move", "-f", "-f", os.fspath(tree), os.fspath(tmp_path / "by-hand"))
    data = wt_json(repo, "alloc", "a1", "--owner-pid", "0")
    assert data["worktree"] == os.fspath(tmp_path / "by-hand")


def gitdir_points_back(path: Path) -> bool:
    return git(path, "rev-parse", "--show-toplevel").strip() == os.fspath(path)
