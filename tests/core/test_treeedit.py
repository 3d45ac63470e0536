"""core.treeedit builds the tree an index would give: `read-tree BASE`, `update-index
--index-info CHANGES`, `write-tree`, compared on random trees and changes (files, executables,
links, submodules; a file replacing a directory and the reverse; directories emptied), in both
object formats. And what an index cannot hold, an empty directory no change reaches, is kept."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worktree_tools.core import treeedit
from worktree_tools.core.entries import Entry, index_info
from worktree_tools.core.errors import GitError
from worktree_tools.core.repo import discover

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
MODES = ("100644", "100755", "120000")
# Few names, so that random paths share directories and collide (a/b as a file and a/b/c).
paths = st.lists(st.sampled_from("abc"), min_size=1, max_size=4).map("/".join)
present = st.one_of(
    st.tuples(st.sampled_from(MODES), st.integers(0, 3)),
    st.just(("160000", 0)),
)
entries = st.one_of(st.none(), present)


def _init(root: Path, object_format: str) -> tuple[Path, list[str]]:
    root.mkdir()
    git(root, "init", "-q", f"--object-format={object_format}")
    blobs = [git(root, "hash-object", "-w", "--stdin", input=b"%d\n" % i).strip() for i in range(4)]
    return root, blobs


def _index_tree(root: Path, index: Path, base: str | None, changes: bytes) -> str:
    env = {**os.environ, "GIT_INDEX_FILE": os.fspath(index)}
    index.unlink(missing_ok=True)
    if base is not None:
        subprocess.run(["git", "read-tree", base], cwd=root, env=env, check=True)
    subprocess.run(
        ["git", "update-index", "-z", "--index-info"], cwd=root, env=env, input=changes, check=True
    )
    return subprocess.run(
        ["git", "write-tree"], cwd=root, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def _entry(spec: tuple[str, int] | None, blobs: list[str], head: str) -> Entry | None:
    if spec is None:
        return None
    mode, i = spec
    return Entry(mode, head if mode == "160000" else blobs[i])


@st.composite
def cases(
    draw: st.DrawFn,
) -> tuple[dict[str, tuple[str, int]], dict[str, tuple[str, int] | None]]:
    """A base and changes to it; most changes name a path of the base, or its directory
    (removing a directory's files one by one empties it)."""
    base = draw(st.dictionaries(paths, present, max_size=8))
    near = sorted({*base, *(p.rpartition("/")[0] for p in base)} - {""}) or ["a"]
    keys = st.one_of(paths, st.sampled_from(near), st.sampled_from(near))
    changes = draw(st.dictionaries(keys, entries, min_size=1, max_size=6))
    if draw(st.booleans()):  # empty one directory
        d = draw(st.sampled_from(near))
        changes.update({p: None for p in base if p.startswith(d + "/")})
    return base, changes


@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
@SETTINGS
@given(case=cases())
def test_edit_gives_the_tree_an_index_gives(
    object_format: str,
    case: tuple[dict[str, tuple[str, int]], dict[str, tuple[str, int] | None]],
) -> None:
    base, changes = case
    with tempfile.TemporaryDirectory() as tmp:
        root, blobs = _init(Path(tmp) / "r", object_format)
        git(root, "commit", "-q", "--allow-empty", "-m", "for gitlinks")
        head = git(root, "rev-parse", "HEAD").strip()
        oid_len = len(head)
        # The base as an index makes it (an entry may replace another's directory: fine).
        base_changes = sorted((os.fsencode(p), _entry(e, blobs, head)) for p, e in base.items())
        base_tree = _index_tree(
            root,
            Path(tmp) / "i",
            None,
            index_info([(os.fsdecode(p), e) for p, e in base_changes], oid_len),
        )
        wanted = [(p, _entry(e, blobs, head)) for p, e in changes.items()]
        ordered = sorted(wanted, key=lambda c: os.fsencode(c[0]))
        expected = _index_tree(root, Path(tmp) / "i", base_tree, index_info(ordered, oid_len))
        got = treeedit.edit(discover(root), base_tree, wanted)
        assert got == expected, (base, changes)
        assert git(root, "cat-file", "-t", got).strip() == "tree"


def test_an_empty_directory_no_change_reaches_is_kept(tmp_path: Path) -> None:
    root, blobs = _init(tmp_path / "r", "sha1")
    empty = git(root, "mktree", input=b"").strip()
    keep = git(root, "mktree", input=f"040000 tree {empty}\tkeep\n".encode()).strip()
    base = git(
        root, "mktree", input=f"040000 tree {keep}\tdir\n100644 blob {blobs[0]}\tf\n".encode()
    ).strip()
    got = treeedit.edit(discover(root), base, [("g", Entry("100644", blobs[1]))])
    assert git(root, "ls-tree", "-r", "-t", "--name-only", got).split() == [
        "dir", "dir/keep", "f", "g",
    ]  # fmt: skip


def test_an_object_that_is_not_there_is_refused_by_git(tmp_path: Path) -> None:
    root, blobs = _init(tmp_path / "r", "sha1")
    base = git(root, "mktree", input=f"100644 blob {blobs[0]}\tf\n".encode()).strip()
    with pytest.raises(GitError) as err:
        treeedit.edit(discover(root), base, [("d/g", Entry("100644", "1" * 40))])
    assert "1111111111" in str(err.value)
