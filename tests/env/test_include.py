""".worktreeinclude: ignored files, directories, globs and links come along at alloc; tracked and
unignored paths are skipped and named; nothing is read or written through a link that leaves
the repository."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import git, git_wt, write

GITIGNORE = "node_modules/\n.env\n*.log\nbuild/\nlinked\ncfg/local.*\n"
INCLUDE = "node_modules/\n.env\n*.log\ntracked.cfg\nnotignored.txt\ncfg/local.*\nlinked\n"


def _project(repo: Path, outside: Path) -> None:
    write(repo, ".gitignore", GITIGNORE)
    write(repo, ".worktreeinclude", INCLUDE)
    write(repo, "tracked.cfg", "tracked\n")
    write(repo, "cfg/base.json", "{}\n")
    git(repo, "add", ".gitignore", ".worktreeinclude", "tracked.cfg", "cfg/base.json")
    git(repo, "commit", "-qm", "project")
    write(repo, "node_modules/pkg/index.js", "module.exports = 1;\n")
    tool = write(repo, "node_modules/.bin/tool", "#!/bin/sh\necho tool\n")
    tool.chmod(0o755)
    (repo / "node_modules/.bin/pkg").symlink_to("../pkg/index.js")
    (repo / "node_modules/pkg/escape").symlink_to(outside / "secret.txt")
    write(repo, ".env", "PORT=3000\n")
    write(repo, "debug.log", "log\n")
    write(repo, "build/out.o", "not listed\n")
    write(repo, "notignored.txt", "stray\n")
    write(repo, "cfg/local.json", '{"local": true}\n')
    write(outside, "secret.txt", "outside the repository\n")
    (repo / "linked").symlink_to(outside, target_is_directory=True)


def _alloc(repo: Path, agent: str, *args: str) -> dict[str, Any]:
    res = git_wt(repo, "alloc", agent, "--owner-pid", "0", "--json", *args)
    assert res.returncode == 0, res.stderr
    data: dict[str, Any] = json.loads(res.stdout)
    return data


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    d = tmp_path / "outside"
    d.mkdir()
    return d


def _alloc_mode(repo: Path, agent: str, mode: str | None) -> dict[str, Any]:
    if mode:
        git(repo, "config", "wt.include.mode", mode)
    res = git_wt(repo, "alloc", agent, "--owner-pid", "0", "--json")
    assert res.returncode == 0, res.stderr
    data: dict[str, Any] = json.loads(res.stdout)
    return data


@pytest.mark.parametrize("mode", [None, "copy", "link", "reflink"])
def test_alloc_brings_the_listed_ignored_files(repo: Path, outside: Path, mode: str | None) -> None:
    _project(repo, outside)
    data = _alloc_mode(repo, "a1", mode)
    tree = Path(data["worktree"])
    inc = data["env"]["include"]
    assert inc["mode"] == (mode or "auto")
    assert (tree / ".env").read_text() == "PORT=3000\n"
    assert (tree / "debug.log").read_text() == "log\n"
    assert (tree / "node_modules/pkg/index.js").read_text() == "module.exports = 1;\n"
    assert (tree / "cfg/local.json").read_text() == '{"local": true}\n'
    assert os.access(tree / "node_modules/.bin/tool", os.X_OK)
    assert os.readlink(tree / "node_modules/.bin/pkg") == "../pkg/index.js"
    # links are recreated, never followed: the outside file is not copied into the worktree
    assert os.readlink(tree / "node_modules/pkg/escape") == os.fspath(outside / "secret.txt")
    assert os.readlink(tree / "linked") == os.fspath(outside)
    assert not (tree / "build").exists()
    assert inc["files"] == 5 and inc["symlinks"] == 3
    skipped = {s["path"]: s["reason"] for s in inc["skipped"]}
    assert skipped["tracked.cfg"].startswith("tracked")
    assert skipped["notignored.txt"].startswith("not ignored")
    assert (tree / "tracked.cfg").read_text() == "tracked\n"
    assert not (tree / "notignored.txt").exists()
    same = os.stat(tree / ".env").st_ino == os.stat(repo / ".env").st_ino
    assert same is (mode == "link")
    method = "link" if mode == "link" else None
    if method:
        assert inc["methods"] == {"link": 5}
    else:  # reflink where the filesystem can, a copy elsewhere
        assert sum(inc["methods"].values()) == 5 and set(inc["methods"]) <= {"copy", "reflink"}
    # the worktree is clean: everything brought along is ignored
    assert git(tree, "status", "--porcelain") == ""
    res = git_wt(repo, "alloc", "a1", "--owner-pid", "0")
    assert "tracked.cfg" not in res.stderr  # a re-alloc does not bring (or report) them again


def test_text_alloc_names_skipped_paths_on_stderr(repo: Path, outside: Path) -> None:
    _project(repo, outside)
    res = git_wt(repo, "alloc", "a1", "--owner-pid", "0")
    assert res.returncode == 0 and res.stdout.count("\n") == 1
    assert "wt: .worktreeinclude: 2 path(s) skipped" in res.stderr
    assert "tracked.cfg (tracked" in res.stderr


def test_nothing_is_written_through_a_link_of_the_new_checkout(repo: Path, outside: Path) -> None:
    """Another base where `cfg` is a tracked link out of the repository: the ignored
    cfg/local.json of the main worktree is not written through it."""
    _project(repo, outside)
    git(repo, "checkout", "-qb", "linky")
    git(repo, "rm", "-rq", "cfg")
    shutil.rmtree(repo / "cfg")
    (repo / "cfg").symlink_to(outside, target_is_directory=True)
    git(repo, "add", "cfg")
    git(repo, "commit", "-qm", "cfg is a link")
    git(repo, "checkout", "-q", "main")
    if (repo / "cfg").is_symlink():
        (repo / "cfg").unlink()
        git(repo, "checkout", "-q", "--", "cfg")
    write(repo, "cfg/local.json", '{"local": true}\n')
    data = _alloc(repo, "a1", "--base", "linky")
    skipped = {s["path"]: s["reason"] for s in data["env"]["include"]["skipped"]}
    assert "a link: not followed" in skipped["cfg/local.json"]
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_a_linked_worktreeinclude_is_not_read(repo: Path, outside: Path) -> None:
    write(outside, "include", ".env\n")
    write(repo, ".gitignore", ".env\n.worktreeinclude\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    (repo / ".worktreeinclude").symlink_to(outside / "include")
    write(repo, ".env", "x\n")
    data = _alloc(repo, "a1")
    assert data["env"]["include"]["files"] == 0
    assert "not a regular file" in data["env"]["include"]["skipped"][0]["reason"]
    assert not (Path(data["worktree"]) / ".env").exists()


def test_bad_include_mode_changes_nothing(repo: Path) -> None:
    git(repo, "config", "wt.include.mode", "teleport")
    res = git_wt(repo, "alloc", "a1", "--owner-pid", "0")
    assert res.returncode == 2 and "wt.include.mode" in res.stderr
    assert len(git(repo, "worktree", "list").splitlines()) == 1


def test_alloc_killed_while_bringing_files_is_finished_by_the_next_alloc(
    repo: Path, outside: Path
) -> None:
    _project(repo, outside)
    res = git_wt(repo, "alloc", "a1", "--owner-pid", "0", env={"WT_FAULT": "wt-include-file"})
    assert res.returncode == -9
    data = _alloc(repo, "a1")
    tree = Path(data["worktree"])
    for rel in (".env", "debug.log", "node_modules/pkg/index.js", "cfg/local.json"):
        assert (tree / rel).read_bytes() == (repo / rel).read_bytes()
    assert os.readlink(tree / "node_modules/.bin/pkg") == "../pkg/index.js"
    assert git(tree, "status", "--porcelain") == ""
