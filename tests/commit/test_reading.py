"""What wt-commit reads: only the named files, through paths that cannot follow a link, and
committed as git would stage them (filters, end-of-line attributes, modes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import git, snapshot, write, wt_commit

SECRET = b"SECRET-outside-the-worktree\n"

SWAPPER = r"""
import os, sys, time
x, link, real, stop, ready = sys.argv[1:6]
give_up = time.monotonic() + 60
open(ready, "w").close()
while not os.path.exists(stop) and time.monotonic() < give_up:
    os.rename(x, real)      # the real directory aside
    os.rename(link, x)      # the link to the outside in its place
    os.rename(x, link)
    os.rename(real, x)
"""


@pytest.mark.parametrize("name", ["sub/inner.txt", "sub"])
def test_a_path_in_an_untracked_nested_repository_is_refused(repo: Path, name: str) -> None:
    nested = repo / "sub"
    nested.mkdir()
    git(nested, "init", "-q")
    write(nested, "inner.txt", "inside another repository\n")
    before = snapshot(repo)
    proc = wt_commit(repo, "--json", "-m", "x", "--", name)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert out["outcome"] == "invalid"
    assert "nested" in out["error"] and "sub" in out["error"]
    assert snapshot(repo)[:3] == before[:3]


def test_a_directory_holding_a_nested_repository_is_refused(repo: Path) -> None:
    write(repo, "lib/own.txt", "ours\n")
    git(repo / "lib", "init", "-q", "vendor")
    write(repo, "lib/vendor/theirs.txt", "theirs\n")
    proc = wt_commit(repo, "--json", "-m", "x", "--", "lib")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "lib/vendor" in json.loads(proc.stdout)["error"]
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").split() == ["README", "src/app.py"]


def test_a_directory_swapped_for_a_link_never_commits_outside_content(
    repo: Path, tmp_path: Path
) -> None:
    """x/ and a link to a directory outside (holding a secret under the same name) swap places
    as fast as they can while wt-commit runs again and again. Whatever each run answers, no
    byte of the secret ever reaches the object store."""
    outside = tmp_path / "outside"
    write(outside, "f.txt", SECRET)
    write(outside, "secret.txt", SECRET)
    write(repo, "x/f.txt", "mine v1\n")
    git(repo, "add", "x/f.txt")
    git(repo, "commit", "-qm", "x")
    os.symlink(outside, repo / "x.link")
    real_dir = os.open(repo / "x", os.O_RDONLY | os.O_DIRECTORY)
    stop, ready = tmp_path / "stop", tmp_path / "ready"
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, *(os.fspath(p) for p in (
            repo / "x", repo / "x.link", repo / "x.real", stop, ready))],
    )  # fmt: skip
    outcomes: dict[int, int] = {}
    try:
        while not ready.exists():
            time.sleep(0.01)
        until = time.monotonic() + 8
        i = 0
        while time.monotonic() < until:
            i += 1
            # Change the real file through a descriptor of the real directory, wherever it is.
            fd = os.open("f.txt", os.O_WRONLY | os.O_TRUNC, dir_fd=real_dir)
            os.write(fd, f"mine v{i}\n".encode())
            os.close(fd)
            named = "x" if i % 2 else "x/f.txt"  # a directory (git walks it) and a file in it
            proc = wt_commit(repo, "-n", "-m", f"try {i}", "--", named)
            outcomes[proc.returncode] = outcomes.get(proc.returncode, 0) + 1
    finally:
        stop.touch()
        swapper.wait(timeout=60)
        os.close(real_dir)
    objects = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo, capture_output=True
    ).stdout
    assert SECRET.strip() not in objects
    assert (outside / "f.txt").read_bytes() == SECRET  # the test never wrote through the link
    assert sorted(p.name for p in outside.iterdir()) == ["f.txt", "secret.txt"]
    assert set(outcomes) <= {0, 2}, outcomes  # committed/unchanged, or refused
    assert outcomes.get(0), outcomes  # and some runs did commit the real file


def test_filters_and_end_of_line_rules_apply_as_git_add_applies_them(repo: Path) -> None:
    git(repo, "config", "filter.upper.clean", "tr a-z A-Z")
    git(repo, "config", "filter.upper.smudge", "cat")
    write(repo, ".gitattributes", "*.up filter=upper\n*.crlf text eol=crlf\n*.bin -text\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-qm", "attributes")
    write(repo, "a.up", "shout\n")
    write(repo, "b.crlf", "one\r\ntwo\r\n")
    write(repo, "c.bin", "raw\r\n")
    write(repo, "d.txt", "plain\r\n")
    write(repo, "sub/.gitattributes", "*.txt text\n")  # untracked: applies, as in git add
    write(repo, "sub/e.txt", "nested rule\r\n")
    run = write(repo, "run.sh", "#!/bin/sh\n")
    run.chmod(0o755)
    os.symlink("a.up", repo / "link")
    names = ["a.up", "b.crlf", "c.bin", "d.txt", "sub/e.txt", "run.sh", "link"]
    proc = wt_commit(repo, "-m", "x", "--", *names)
    assert proc.returncode == 0, proc.stderr
    # The same files staged by git add in a twin repository give the same tree.
    twin = repo.parent / "twin"
    git(repo.parent, "clone", "-q", os.fspath(repo), "twin")
    git(twin, "reset", "-q", "--hard", "HEAD~1")
    git(twin, "config", "filter.upper.clean", "tr a-z A-Z")
    for name in names:
        src, dst = repo / name, twin / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            dst.write_bytes(src.read_bytes())
            dst.chmod(src.stat().st_mode)
    write(twin, "sub/.gitattributes", "*.txt text\n")
    git(twin, "add", "--", *names)
    ours = git(repo, "ls-tree", "-r", "HEAD", "--", *names)
    theirs = git(twin, "ls-files", "-s", "--", *names)
    entries = {ln.split("\t")[1]: tuple(ln.split()[0:3:2]) for ln in ours.splitlines()}
    assert entries == {ln.split("\t")[1]: tuple(ln.split()[0:2]) for ln in theirs.splitlines()}
    assert len(entries) == len(names)
    assert git(repo, "show", "HEAD:a.up") == "SHOUT\n"
    assert git(repo, "show", "HEAD:b.crlf") == "one\ntwo\n"
    assert git(repo, "show", "HEAD:c.bin") == "raw\r\n"
    assert git(repo, "show", "HEAD:d.txt") == "plain\r\n"
    assert git(repo, "show", "HEAD:sub/e.txt") == "nested rule\n"
    modes = {path: entry[0] for path, entry in entries.items()}
    assert (modes["run.sh"], modes["link"], modes["a.up"]) == ("100755", "120000", "100644")


def test_autocrlf_applies_as_in_git_add(repo: Path) -> None:
    git(repo, "config", "core.autocrlf", "true")
    write(repo, "w.txt", "windows\r\nline\r\n")
    proc = wt_commit(repo, "-m", "x", "--", "w.txt")
    assert proc.returncode == 0, proc.stderr
    assert git(repo, "show", "HEAD:w.txt") == "windows\nline\n"


def test_more_directories_than_descriptors_kept_open(repo: Path) -> None:
    names = [f"d{i}/e{i % 7}/f.txt" for i in range(600)]
    for name in names:
        write(repo, name, name + "\n")
    proc = wt_commit(repo, "-m", "many dirs", "--commit-whole-tree", "--", ".")
    assert proc.returncode == 0, proc.stderr
    tree = git(repo, "ls-tree", "-r", "--name-only", "HEAD").split()
    assert sorted(tree) == sorted([*names, "README", "src/app.py"])
    assert git(repo, "show", "HEAD:d599/e4/f.txt") == "d599/e4/f.txt\n"
