"""Large repositories: a commit of a few paths costs what their directories cost. No git
process reads, rewrites or writes an index of the whole repository to build the commit (the
tip's tree is edited directory by directory), the worktree's index is synced for the named
entries only, and what the commit does not name is kept exactly, even what an index cannot
hold (an empty directory)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import git, write, wt_commit

from worktree_tools.commit import staging

WHOLE_INDEX = ("read-tree", "write-tree", "add")
INDEX_SIZES = ("read/cache_nr", "write/cache_nr")  # trace2 data: entries of an index read/written


def _until_landing(trace: Path) -> list[tuple[list[str], list[int]]]:
    """(argv, sizes of the index files it read or wrote) of each git process a run started
    before the commit lands (`commit-tree` where git writes the commit, else the ref move's
    `update-ref`), from its GIT_TRACE2_EVENT file (git runs one at a time)."""
    out: list[tuple[list[str], list[int]]] = []
    for line in trace.read_text().splitlines():
        event = json.loads(line)
        if event.get("event") == "start":
            if event["argv"][1:2] in (["commit-tree"], ["update-ref"]):
                break
            out.append((event["argv"][1:], []))
        elif event.get("event") == "data" and event.get("key") in INDEX_SIZES:
            out[-1][1].append(int(event["value"]))
    return out


def test_a_commit_without_hooks_runs_no_git_over_the_whole_index(
    repo: Path, tmp_path: Path
) -> None:
    """Building the commit, no git process reads or writes an index of more entries than the
    named paths (the worktree's index is synced afterwards, under index.lock)."""
    for d in range(5):
        for i in range(20):
            write(repo, f"tree/d{d}/f{i}.txt", f"{d} {i}\n")
    git(repo, "add", "tree")
    git(repo, "commit", "-qm", "many")
    write(repo, "tree/d3/f7.txt", "changed\n")
    write(repo, "tree/d3/new.txt", "new\n")
    trace = tmp_path / "trace.json"
    proc = wt_commit(
        repo, "-m", "two", "--", "tree/d3/f7.txt", "tree/d3/new.txt",
        env={"GIT_TRACE2_EVENT": os.fspath(trace)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    building = _until_landing(trace)
    assert not {argv[0] for argv, _ in building} & set(WHOLE_INDEX), building
    assert all(size <= 2 for _, sizes in building for size in sizes), building
    assert git(repo, "diff-tree", "-r", "--name-status", "HEAD~1", "HEAD").split() == [
        "M", "tree/d3/f7.txt", "A", "tree/d3/new.txt",
    ]  # fmt: skip
    assert git(repo, "status", "--porcelain") == ""


def test_an_empty_directory_in_the_tip_is_kept(repo: Path) -> None:
    """Another tool committed an empty directory: a commit that does not name it keeps it
    (an index cannot hold one: building through an index dropped it from the commit)."""
    empty = git(repo, "mktree", input=b"").strip()
    listing = git(repo, "ls-tree", "HEAD")
    tree = git(repo, "mktree", input=f"{listing}040000 tree {empty}\tkeep\n".encode()).strip()
    commit = git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "empty dir").strip()
    git(repo, "update-ref", "refs/heads/main", commit)
    write(repo, "src/app.py", "print('v2')\n")
    proc = wt_commit(repo, "-m", "v2", "--", "src/app.py")
    assert proc.returncode == 0, proc.stderr
    assert "keep" in git(repo, "ls-tree", "--name-only", "HEAD").split()
    assert git(repo, "diff-tree", "-r", "--name-only", "HEAD~1", "HEAD").split() == ["src/app.py"]


def test_attributes_of_the_tip_apply_where_the_worktree_has_none(repo: Path) -> None:
    """As `git add`: a .gitattributes deleted from the worktree (not committed) still applies,
    from the index, to a converted file committed beside it."""
    write(repo, ".gitattributes", "*.txt text eol=lf\n")
    write(repo, "sub/.gitattributes", "*.bin binary\n")
    write(repo, "sub/x.txt", "x\n")
    git(repo, "add", ".gitattributes", "sub")
    git(repo, "commit", "-qm", "attributes")
    (repo / ".gitattributes").unlink()
    write(repo, "sub/x.txt", b"y\r\n")
    proc = wt_commit(repo, "-m", "y", "--", "sub/x.txt")
    assert proc.returncode == 0, proc.stderr
    assert git(repo, "cat-file", "blob", "HEAD:sub/x.txt") == "y\n"
    assert git(repo, "ls-tree", "--name-only", "HEAD", ".gitattributes") == ".gitattributes\n"


def test_a_file_replacing_a_directory_and_the_reverse(repo: Path) -> None:
    write(repo, "d/x", "in a directory\n")
    write(repo, "f", "a file\n")
    git(repo, "add", "d", "f")
    git(repo, "commit", "-qm", "d and f")
    (repo / "d" / "x").unlink()
    (repo / "d").rmdir()
    write(repo, "d", "now a file\n")
    (repo / "f").unlink()
    write(repo, "f/y", "now a directory\n")
    proc = wt_commit(repo, "-m", "swap", "--", "d", "f/y")
    assert proc.returncode == 0, proc.stderr
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").split() == [
        "README", "d", "f/y", "src/app.py",
    ]  # fmt: skip
    assert git(repo, "status", "--porcelain") == ""


def _hook(repo: Path, name: str, body: str) -> None:
    hook = repo / ".git" / "hooks" / name
    hook.write_text("#!/bin/sh\n" + body)
    hook.chmod(0o755)


def test_hooks_in_place_see_the_commit_with_the_worktrees_stat_data(repo: Path) -> None:
    """The private index of hooks run in place holds exactly the commit's tree, and the
    entries the commit does not change keep the worktree index's stat data: the hook's first
    `git diff` re-reads no unchanged file (from an index without it: every tracked file)."""
    _hook(
        repo,
        "pre-commit",
        'git ls-files --debug README > "$OUT/debug"\n'
        'git ls-files -s > "$OUT/entries"\n'
        'git diff --cached --name-only > "$OUT/cached"\n',
    )
    write(repo, "a.txt", "a\n")
    write(repo, "src/app.py", "print('v2')\n")  # tracked, changed on disk, not in the index
    write(repo, "b.txt", "b\n")
    git(repo, "add", "b.txt")  # another agent's staged work: not in this commit's index
    out = repo.parent / "out"
    out.mkdir()
    proc = wt_commit(
        repo, "--json", "--hooks", "in-place", "-m", "a", "--", "a.txt", "src/app.py",
        env={"OUT": os.fspath(out)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (out / "cached").read_text() == "a.txt\nsrc/app.py\n"
    committed = git(
        repo, "ls-tree", "-r", "--format=%(objectmode) %(objectname) 0\t%(path)", "HEAD"
    )
    assert (out / "entries").read_text() == committed
    assert "  size: 6\t" in (out / "debug").read_text()  # README's, as the worktree index has it
    assert git(repo, "diff", "--cached", "--name-only") == "b.txt\n"


def test_hooks_in_place_with_an_unmerged_worktree_index(repo: Path) -> None:
    """An index that `read-tree -m` refuses (a path left unmerged) is not the hooks' start:
    they get the commit's tree all the same."""
    _hook(repo, "pre-commit", 'git ls-files -s > "$OUT"\n')
    blob = git(repo, "hash-object", "-w", "--stdin", input=b"x\n").strip()
    unmerged = "".join(f"100644 {blob} {stage}\tc.txt\n" for stage in (1, 2, 3))
    git(repo, "update-index", "--index-info", input=unmerged.encode())
    write(repo, "a.txt", "a\n")
    out = repo.parent / "entries"
    proc = wt_commit(
        repo, "--json", "--hooks", "in-place", "-m", "a", "--", "a.txt",
        env={"OUT": os.fspath(out)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    committed = git(
        repo, "ls-tree", "-r", "--format=%(objectmode) %(objectname) 0\t%(path)", "HEAD"
    )
    assert out.read_text() == committed
    assert "c.txt" in git(repo, "ls-files", "--unmerged")


def test_a_submodule_under_a_named_directory_is_left_as_it_is(repo: Path) -> None:
    """Untracked files are listed over an empty index, where a submodule's checkout shows as a
    nested repository (`lib/sub/`): the one HEAD records as a submodule is not refused, and
    its commit stays as recorded."""
    sub = repo / "lib" / "sub"
    sub.mkdir(parents=True)
    git(sub, "init", "-q")
    write(sub, "inner.txt", "inner\n")
    git(sub, "add", "inner.txt")
    git(sub, "commit", "-qm", "inner")
    write(repo, "lib/own.txt", "ours\n")
    git(repo, "add", "lib")  # lib/sub as a gitlink (an embedded repository)
    git(repo, "commit", "-qm", "lib")
    recorded = git(repo, "rev-parse", "HEAD:lib/sub")
    write(repo, "lib/own.txt", "ours, changed\n")
    write(repo, "lib/new.txt", "new\n")
    proc = wt_commit(repo, "-m", "lib", "--", "lib")
    assert proc.returncode == 0, proc.stderr
    assert git(repo, "diff-tree", "-r", "--name-status", "HEAD~1", "HEAD").split() == [
        "A", "lib/new.txt", "M", "lib/own.txt",
    ]  # fmt: skip
    assert git(repo, "rev-parse", "HEAD:lib/sub") == recorded


@pytest.mark.parametrize("name", ["docs/GIT~1", ".gitmodules"])
def test_a_name_git_will_not_track_is_refused_as_git_add_refuses_it(repo: Path, name: str) -> None:
    """`GIT~1` (core.protectNTFS) and a `.gitmodules` link are refused by git's own path check
    (`git add`: "invalid path"); before, `update-index --index-info` skipped them silently and
    the rest was committed."""
    write(repo, "docs/ok.txt", "ok\n")
    if name == ".gitmodules":
        os.symlink("docs/ok.txt", repo / name)
    else:
        write(repo, name, "x\n")
    tip = git(repo, "rev-parse", "HEAD")
    proc = wt_commit(repo, "--json", "-m", "names", "--", "docs", name)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert out["outcome"] == "invalid" and name in out["error"]
    assert git(repo, "rev-parse", "HEAD") == tip


def test_a_plainly_valid_name_is_one_git_accepts(tmp_path: Path) -> None:
    """The names wt-commit does not ask git about are names git's path check accepts (core
    .protectNTFS and core.protectHFS on); the ones it asks about include git's refusals."""
    plain = [
        "git", "GIT", "Git.", "git.", "git-1", "git_1", "git+1", "gitmodules", "x.git", "a..b",
        "a.", "A-", "_git", "0.git", "dir/git/x", "src/main.py", "n4-p0-k1.txt", "GIT1",
    ]  # fmt: skip
    asked = [".git", ".GIT.", "git~1", "GIT~1 ", "a\\.git", ".gitmodules", "\u200c.git", "a b"]
    assert all(staging.plainly_valid(n) for n in plain)
    assert not any(staging.plainly_valid(n) for n in asked)
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "core.protectHFS", "true")
    blob = git(root, "hash-object", "-w", "--stdin", input=b"x\n").strip()
    listing = "".join(f"100644 {blob}\t{n}\0" for n in plain).encode()
    git(root, "update-index", "-z", "--index-info", input=listing)
    assert sorted(git(root, "ls-files", "-z").split("\0")[:-1]) == sorted(plain)
