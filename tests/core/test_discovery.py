"""core.discovery: the worktree found without git is the one `git rev-parse` finds, on every
layout where it answers; where the case is not plain it answers None (git decides).

Each case builds a real layout, then compares `settle(guess(cwd), <git config read there>)`
with `core.repo.discover(cwd)` (rev-parse): toplevel, git dir, common dir, hooks dir."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WT_COMMIT, git, git_commands, write

from worktree_tools.commit.locate import locate_plain
from worktree_tools.core import discovery
from worktree_tools.core.repo import Worktree, discover


def _fast(cwd: Path | str) -> Worktree | None:
    """The worktree wt-commit takes without rev-parse (commit/locate.locate_plain); None: it asks
    git."""
    plain = locate_plain(cwd)
    return None if plain is None else plain[0]


def _key(wt: Worktree) -> tuple[str, str, str, str]:
    return (wt.toplevel_str, wt.gitdir_str, wt.commondir_str, wt.hooks_dir_str)


def _same(cwd: Path) -> Worktree:
    """The fast way answers, and as rev-parse does."""
    fast = _fast(cwd)
    assert fast is not None, f"no answer without git at {cwd}"
    assert _key(fast) == _key(discover(cwd))
    return fast


def _falls_back(cwd: Path) -> None:
    """The fast way leaves it to git (which may still find a worktree, or refuse)."""
    assert _fast(cwd) is None


@pytest.fixture
def linked(repo: Path, tmp_path: Path) -> Iterator[Path]:
    other = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "side", os.fspath(other))
    yield other


def test_top_and_subdirectory_of_the_main_worktree(repo: Path) -> None:
    (repo / "a" / "b").mkdir(parents=True)
    assert _same(repo).toplevel_str == os.path.realpath(repo)
    _same(repo / "a" / "b")


def test_a_linked_worktree_and_its_common_dir(repo: Path, linked: Path) -> None:
    (linked / "deep").mkdir()
    wt = _same(linked / "deep")
    assert wt.commondir_str == os.path.realpath(repo / ".git")
    assert wt.gitdir_str != wt.commondir_str


def test_a_worktree_reached_through_a_symbolic_link(repo: Path, tmp_path: Path) -> None:
    (repo / "sub").mkdir()
    link = tmp_path / "via-link"
    link.symlink_to(repo / "sub")
    assert _same(link).toplevel_str == os.path.realpath(repo)


def test_a_git_dir_behind_a_link_or_a_gitfile(tmp_path: Path) -> None:
    separate = tmp_path / "work"
    git(tmp_path, "init", "-q", "--separate-git-dir", os.fspath(tmp_path / "store.git"), "work")
    assert (separate / ".git").is_file()
    assert _same(separate).gitdir_str == os.path.realpath(tmp_path / "store.git")
    linked_dir = tmp_path / "linked-dotgit"
    git(tmp_path, "init", "-q", "plain")
    linked_dir.mkdir()
    (linked_dir / ".git").symlink_to(tmp_path / "plain" / ".git")
    _same(linked_dir)


@pytest.mark.parametrize("where", ["relative", "absolute", "dot-relative"])
def test_core_hooks_path(repo: Path, linked: Path, tmp_path: Path, where: str) -> None:
    value = {
        "relative": "tools/hooks",
        "absolute": os.fspath(tmp_path / "elsewhere" / "hooks"),
        "dot-relative": "./.githooks/../hooks2",
    }[where]
    git(repo, "config", "core.hooksPath", value)
    (repo / "x").mkdir()
    _same(repo / "x")
    _same(linked)


@pytest.mark.parametrize("value", ["~/hooks", "%(prefix)/hooks"])
def test_hooks_path_git_must_expand_falls_back(repo: Path, value: str) -> None:
    git(repo, "config", "core.hooksPath", value)
    _falls_back(repo)


def test_a_nested_repository_is_its_own(repo: Path) -> None:
    git(repo, "init", "-q", "inner")
    assert _same(repo / "inner").toplevel_str == os.path.realpath(repo / "inner")


def test_a_submodule_falls_back_and_still_commits(repo: Path, tmp_path: Path) -> None:
    upstream = tmp_path / "upstream"
    git(tmp_path, "init", "-q", "upstream")
    write(upstream, "u.txt", "u\n")
    git(upstream, "add", "u.txt")
    git(upstream, "commit", "-q", "-m", "u")
    git(
        repo,
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        os.fspath(upstream),
        "sub",
    )
    sub = repo / "sub"
    _falls_back(sub)  # its git dir sets core.worktree: git decides
    write(sub, "u.txt", "changed\n")
    out = subprocess.run(
        [WT_COMMIT, "-m", "in the submodule", "u.txt"], cwd=sub, capture_output=True
    )
    assert out.returncode == 0, out.stderr
    assert git(sub, "show", "HEAD:u.txt") == "changed\n"
    assert git(repo, "log", "-1", "--format=%s") != "in the submodule\n"


def test_bare_repositories_and_git_dirs_fall_back(tmp_path: Path, repo: Path) -> None:
    git(tmp_path, "init", "-q", "--bare", "bare.git")
    _falls_back(tmp_path / "bare.git")
    _falls_back(repo / ".git")
    _falls_back(repo / ".git" / "refs")


def test_core_bare_or_core_worktree_fall_back(repo: Path) -> None:
    git(repo, "config", "core.bare", "true")
    _falls_back(repo)
    git(repo, "config", "core.bare", "false")
    _same(repo)
    git(repo, "config", "core.worktree", os.fspath(repo))
    _falls_back(repo)


@pytest.mark.parametrize(
    "var",
    ["GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM"],
)
def test_git_environment_falls_back(repo: Path, monkeypatch: pytest.MonkeyPatch, var: str) -> None:
    monkeypatch.setenv(var, os.fspath(repo / ".git") if var == "GIT_DIR" else os.fspath(repo))
    assert discovery.guess(repo) is None


def test_no_repository_or_a_bad_gitfile_gives_none(tmp_path: Path, repo: Path) -> None:
    (tmp_path / "plain-dir").mkdir()
    assert discovery.guess(tmp_path / "plain-dir") is None or _same(tmp_path / "plain-dir")
    assert discovery.guess(tmp_path / "does-not-exist") is None
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / ".git").write_text("not a gitfile\n")
    assert discovery.guess(broken) is None
    dangling = tmp_path / "dangling"
    dangling.mkdir()
    (dangling / ".git").write_text(f"gitdir: {tmp_path / 'nowhere'}\n")
    assert discovery.guess(dangling) is None


def test_a_dotgit_that_is_no_repository_is_walked_past(repo: Path) -> None:
    """git skips a `.git` directory that is not a git directory and goes on up."""
    inner = repo / "inner"
    (inner / ".git").mkdir(parents=True)  # no HEAD, no objects: not a git directory
    assert _same(inner).toplevel_str == os.path.realpath(repo)
    (inner / ".git" / "HEAD").write_text("garbage\n")
    (inner / ".git" / "objects").mkdir()
    (inner / ".git" / "refs").mkdir()
    assert _same(inner).toplevel_str == os.path.realpath(repo)


def test_a_detached_head_is_a_valid_head(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    _same(repo)


@pytest.mark.skipif(os.geteuid() != 0, reason="making files someone else's needs root")
def test_someone_elses_repository_falls_back(repo: Path) -> None:
    os.chown(repo, 65534, -1)
    try:
        assert discovery.guess(repo) is None
    finally:
        os.chown(repo, 0, -1)
    os.chown(repo / ".git", 65534, -1)
    try:
        assert discovery.guess(repo) is None
    finally:
        os.chown(repo / ".git", 0, -1)


def test_root_under_sudo_falls_back(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUDO_UID", "1000")
    if os.geteuid() == 0:
        assert discovery.guess(repo) is None
    else:
        _same(repo)


def test_a_plain_commit_runs_no_rev_parse(repo: Path, tmp_path: Path) -> None:
    """The point of it all: wt-commit in a plain worktree starts no `git rev-parse`."""
    write(repo, "f.txt", "one\n")
    trace = tmp_path / "trace"
    env = {**os.environ, "GIT_TRACE": os.fspath(trace)}
    out = subprocess.run([WT_COMMIT, "-m", "m", "f.txt"], cwd=repo, capture_output=True, env=env)
    assert out.returncode == 0, out.stderr
    commands = [command.split()[0] for command in git_commands(trace)]
    assert "rev-parse" not in commands
    assert "config" in commands
    assert git(repo, "show", "HEAD:f.txt") == "one\n"
