"""Attacks on core.discovery: layouts, environments and states where the worktree found without
git could differ from `git rev-parse` (core.repo.discover), or answer where git refuses.

The first tests are the divergences attacking it found (each fixed since): the right behaviour,
the fast way leaving it to git or answering as git does; the rest guard cases that held. `_fast`
is what wt-commit takes without rev-parse: guess, the one `git config`, settle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WT_COMMIT, git, write

from worktree_tools.core import discovery
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.repo import discover

from .test_discovery import _fast, _same

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="making files someone else's needs root")
NOBODY = 65534


def _refused(cwd: Path | str) -> None:
    """git refuses here (rev-parse fails); the fast way must not answer either."""
    with pytest.raises(InvalidInput):
        discover(cwd)
    assert _fast(cwd) is None


def _blocking_hook(hooks: Path) -> None:
    write(hooks, "pre-commit", "#!/bin/sh\necho BLOCKED-BY-HOOK >&2\nexit 1\n").chmod(0o755)


def _wt_commit(cwd: Path, path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WT_COMMIT, "-m", "attack", path], cwd=cwd, capture_output=True, text=True
    )


@pytest.fixture
def linked(repo: Path, tmp_path: Path) -> Iterator[Path]:
    other = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "side", os.fspath(other))
    yield other


# --- divergences found by attacking it (each fixed; the tests keep them fixed) ---


def test_include_if_gitdir_seen_through_a_logical_pwd_keeps_the_hooks(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.symlink_to(repo)
    hooks = tmp_path / "policy-hooks"
    _blocking_hook(hooks)
    write(tmp_path, "policy.inc", f"[core]\n\thooksPath = {hooks}\n")
    with open(repo / ".git" / "config", "a") as f:
        f.write(f'[includeIf "gitdir:{work}/"]\n\tpath = {tmp_path / "policy.inc"}\n')
    monkeypatch.setenv("PWD", os.fspath(work))  # a shell that did `cd work`; getcwd is real
    assert discover(repo).hooks_dir_str == os.fspath(hooks)  # git sees the include
    write(repo, "f.txt", "x\n")
    out = _wt_commit(repo, "f.txt")
    assert out.returncode != 0 and "BLOCKED-BY-HOOK" in out.stderr, "pre-commit hook skipped"
    _same(repo)


def test_include_if_gitdir_through_a_symlinked_dotgit_keeps_the_hooks(
    repo: Path, tmp_path: Path
) -> None:
    top = tmp_path / "top"
    top.mkdir()
    (top / ".git").symlink_to(repo / ".git")
    git(top, "checkout", "-q", "-f", "HEAD", "--", ".")
    hooks = tmp_path / "policy-hooks"
    _blocking_hook(hooks)
    write(tmp_path, "policy.inc", f"[core]\n\thooksPath = {hooks}\n")
    with open(repo / ".git" / "config", "a") as f:
        f.write(f'[includeIf "gitdir:{top}/.git"]\n\tpath = {tmp_path / "policy.inc"}\n')
    assert discover(top).hooks_dir_str == os.fspath(hooks)
    write(top, "f.txt", "x\n")
    out = _wt_commit(top, "f.txt")
    assert out.returncode != 0 and "BLOCKED-BY-HOOK" in out.stderr, "pre-commit hook skipped"
    _same(top)


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"core.repositoryformatversion": "1", "extensions.foo": "bar"},
                     id="v1-unknown-extension"),
        pytest.param({"core.repositoryformatversion": "1", "extensions.refStorage": "reftable"},
                     id="v1-reftable"),
        pytest.param({"core.repositoryformatversion": "2"}, id="version-2"),
        pytest.param({"extensions.objectFormat": "sha256"}, id="v0-with-v1-extension"),
    ],
)  # fmt: skip
def test_a_repository_format_git_refuses_is_refused(repo: Path, settings: dict[str, str]) -> None:
    for key, value in settings.items():
        git(repo, "config", key, value)
    _refused(repo)


def test_an_unknown_extension_in_a_version_0_repository_is_ignored(repo: Path) -> None:
    git(repo, "config", "extensions.foo", "bar")  # v0: git ignores it
    _same(repo)


def test_core_hooks_path_without_a_value_is_refused(repo: Path) -> None:
    with open(repo / ".git" / "config", "a") as f:
        f.write("[core]\n\thooksPath\n")
    _refused(repo)


def test_core_hooks_path_in_a_symlink_loop_is_refused(repo: Path) -> None:
    (repo / "loop-a").symlink_to("loop-b")
    (repo / "loop-b").symlink_to("loop-a")
    git(repo, "config", "core.hooksPath", "loop-a")
    _refused(repo)


def test_a_symlinked_default_hooks_dir_is_given_as_its_real_path(
    repo: Path, tmp_path: Path
) -> None:
    shutil.rmtree(repo / ".git" / "hooks")
    (tmp_path / "shared-hooks").mkdir()
    (repo / ".git" / "hooks").symlink_to(tmp_path / "shared-hooks")
    _same(repo)


def test_a_gitfile_longer_than_the_read_is_refused(repo: Path, tmp_path: Path) -> None:
    top = tmp_path / "top"
    top.mkdir()
    gitdir = os.fsencode(repo / ".git")
    (top / ".git").write_bytes(b"gitdir: " + gitdir + b"\n" * 70000 + b"junk\n")
    _refused(top)


# --- probes that hold ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [
        {"GIT_CONFIG_PARAMETERS": "'core.hookspath'='tools/hooks'"},  # git -c ... wt commit
        {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.hooksPath",
         "GIT_CONFIG_VALUE_0": "tools/hooks"},
    ],
    ids=["git-c", "config-count"],
)  # fmt: skip
def test_command_line_hooks_path_reaches_both_ways(
    repo: Path, linked: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (linked / "deep").mkdir()
    assert _same(linked / "deep").hooks_dir_str == os.path.realpath(linked / "tools" / "hooks")
    _same(repo / "src")


def test_global_relative_hooks_path_and_per_worktree_config(repo: Path, linked: Path) -> None:
    git(repo, "config", "--global", "core.hooksPath", "global-hooks")
    (linked / "deep").mkdir()
    assert _same(linked / "deep").hooks_dir_str == os.path.realpath(linked / "global-hooks")
    git(repo, "config", "extensions.worktreeConfig", "true")
    git(linked, "config", "--worktree", "core.hooksPath", "wt-hooks")
    assert _same(linked).hooks_dir_str == os.path.realpath(linked / "wt-hooks")
    assert _same(repo).hooks_dir_str == os.path.realpath(repo / "global-hooks")


@pytest.mark.parametrize("value", ["link/../h", "missing/x/../../h", "tools/hooks/", "."])
def test_hooks_path_through_symlinks_and_missing_parts(repo: Path, value: str) -> None:
    (repo / "real" / "deep").mkdir(parents=True)
    (repo / "link").symlink_to("real/deep")
    git(repo, "config", "core.hooksPath", value)
    _same(repo / "src")


def test_a_head_that_is_a_symlink(repo: Path) -> None:
    (repo / ".git" / "HEAD").unlink()
    (repo / ".git" / "HEAD").symlink_to("refs/heads/main")
    _same(repo)


def test_a_detached_sha256_head(sha256_repo: Path) -> None:
    git(sha256_repo, "checkout", "-q", "--detach")
    assert len((sha256_repo / ".git" / "HEAD").read_text().strip()) == 64
    _same(sha256_repo / "src")


@pytest.mark.parametrize(
    "content", ["crlf", "relative", "trailing-space-name", "double-slash", "symlinked-gitfile"]
)
def test_gitfile_spellings(tmp_path: Path, repo: Path, content: str) -> None:
    store = tmp_path / ("store " if content == "trailing-space-name" else "store")
    (repo / ".git").rename(store)
    top = tmp_path / "top"
    top.mkdir()
    text = {
        "crlf": f"gitdir: {store}\r\n",
        "relative": f"gitdir: ../{store.name}\n",
        "trailing-space-name": f"gitdir: {store}\n",
        "double-slash": f"gitdir: /{store}\n",
        "symlinked-gitfile": f"gitdir: ../{store.name}\n",  # relative to top, not the target
    }[content]
    if content == "symlinked-gitfile":
        (tmp_path / "elsewhere").mkdir()
        write(tmp_path / "elsewhere", "gitfile", text)
        (top / ".git").symlink_to(tmp_path / "elsewhere" / "gitfile")
    else:
        write(top, ".git", text)
    assert _same(top).gitdir_str == os.path.realpath(store)


@pytest.mark.parametrize("content", ["crlf", "absolute", "via-symlink", "blank-line"])
def test_commondir_spellings(repo: Path, linked: Path, tmp_path: Path, content: str) -> None:
    admin = Path(discover(linked).gitdir_str)
    (tmp_path / "common-link").symlink_to(repo / ".git")
    commondir = admin / "commondir"
    if content == "blank-line":  # in the main git dir: git reads it as the dir itself
        commondir = repo / ".git" / "commondir"
    text = {
        "crlf": "../..\r\n",
        "absolute": f"{repo / '.git'}\n",
        "via-symlink": f"{tmp_path / 'common-link'}\n",
        "blank-line": "\n",
    }[content]
    commondir.write_text(text)
    assert _same(linked).commondir_str == os.path.realpath(repo / ".git")
    _same(repo)


def test_an_empty_commondir_is_left_to_git(repo: Path) -> None:
    """git dies reading an empty `commondir`; guess answers, but the `git config` of _locate
    fails too, and wt-commit asks rev-parse."""
    (repo / ".git" / "commondir").write_bytes(b"")
    _refused(repo)


def test_a_repository_or_a_worktree_inside_a_git_dir(repo: Path) -> None:
    git(repo / ".git", "init", "-q", "inner")
    assert _same(repo / ".git" / "inner").toplevel_str == os.path.realpath(repo / ".git/inner")
    git(repo, "worktree", "add", "-q", "-b", "in-git-dir", ".git/wt")
    assert _same(repo / ".git" / "wt").commondir_str == os.path.realpath(repo / ".git")


def test_linked_worktree_moved_or_its_main_repository_moved(
    repo: Path, linked: Path, tmp_path: Path
) -> None:
    moved = tmp_path / "moved-linked"
    linked.rename(moved)  # no `git worktree repair`: the admin dir's backlink is stale
    _same(moved)
    repo.rename(tmp_path / "moved-main")  # the linked `.git` file now names nothing
    _refused(moved)


@ROOT_ONLY
@pytest.mark.parametrize("case", ["dotgit-symlink", "gitdir-behind-a-link", "admin-dir"])
def test_ownership_git_checks(repo: Path, linked: Path, tmp_path: Path, case: str) -> None:
    if case == "dotgit-symlink":  # git lstat()s <top>/.git: the link's owner counts
        top = tmp_path / "top"
        top.mkdir()
        (top / ".git").symlink_to(repo / ".git")
        os.chown(top / ".git", NOBODY, -1, follow_symlinks=False)
    elif case == "gitdir-behind-a-link":  # git checks the gitfile target's real path
        (repo / ".git").rename(tmp_path / "store")
        (tmp_path / "store-link").symlink_to(tmp_path / "store")
        top = repo
        write(top, ".git", f"gitdir: {tmp_path / 'store-link'}\n")
        os.chown(tmp_path / "store", NOBODY, -1)
    else:
        top = linked
        os.chown(discover(linked).gitdir_str, NOBODY, -1)
    _refused(top)


@ROOT_ONLY
def test_ownership_git_does_not_check(repo: Path, linked: Path, tmp_path: Path) -> None:
    os.chown(repo / ".git", NOBODY, -1)  # the common dir of a linked worktree: not checked
    _same(linked)
    os.chown(repo / ".git", 0, -1)
    (tmp_path / "store").mkdir()
    top = tmp_path / "top"
    top.mkdir()
    (repo / ".git").rename(tmp_path / "store" / "x.git")
    (top / ".git").symlink_to(tmp_path / "store" / "x.git")  # a root-owned link: git lstat()s
    os.chown(tmp_path / "store" / "x.git", NOBODY, -1)
    _same(top)


def test_a_mount_point_stops_the_walk(repo: Path) -> None:
    if (
        shutil.which("unshare") is None
        or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode
    ):
        pytest.skip("needs `unshare -m` (a private mount namespace) to mount a tmpfs")
    mnt = repo / "mnt"
    mnt.mkdir()
    probe = (
        "import sys\nfrom worktree_tools.core import discovery\n"
        "print(discovery.guess(sys.argv[1]), discovery.guess(sys.argv[1] + '/sub'))\n"
    )
    script = (
        'mount -t tmpfs none "$1" && mkdir "$1/sub" && '
        'git -C "$1/sub" rev-parse --git-dir 2>/dev/null; echo "rc=$?"; '
        'exec "$2" -c "$3" "$1"'
    )
    out = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", os.fspath(mnt), sys.executable, probe],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["rc=128", "None None"]


def test_a_deleted_cwd(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = repo / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert discovery.guess(".") is None
    assert discovery.guess(gone) is None


@pytest.mark.parametrize(
    ("var", "value"), [("GIT_CEILING_DIRECTORIES", ""), ("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")]
)
def test_environment_git_reads_is_left_to_git(
    repo: Path, monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    assert discovery.guess(repo) is None
