"""Path validation: unit properties of `normalize` and end-to-end commits of odd names."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import WT_COMMIT, committed_files, git, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worktree_tools.commit.paths import normalize
from worktree_tools.core.errors import PathRefused

components = st.sampled_from(["a", "b", "..", ".", ".git", ".GIT", "", "x y", "ü", "-n", "link"])


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(components, min_size=1, max_size=6), absolute=st.booleans())
def test_normalize_never_escapes_or_enters_git(
    tmp_path: Path, parts: list[str], absolute: bool
) -> None:
    top = tmp_path / "top"
    (top / "a" / "b").mkdir(parents=True, exist_ok=True)
    if not (top / "link").exists():
        os.symlink(tmp_path, top / "link")  # a directory link that leads outside
    raw = "/".join(parts)
    if absolute:
        raw = os.fspath(top) + "/" + raw
    try:
        (rel,) = normalize([raw], cwd=top / "a", toplevel=top, whole_tree=False)
    except PathRefused:
        return
    segments = rel.split("/")
    assert ".." not in segments and "." not in segments and "" not in segments
    assert not rel.startswith("/")
    assert all(s.lower() != ".git" for s in segments)
    # nothing before the last component is a symbolic link
    walked = top
    for seg in segments[:-1]:
        walked = walked / seg
        assert not walked.is_symlink()
    resolved = os.path.normpath(os.path.join(top, rel))
    assert resolved.startswith(os.fspath(top) + "/")


def test_whole_tree_needs_the_loud_flag(tmp_path: Path) -> None:
    with pytest.raises(PathRefused, match="whole worktree"):
        normalize(["."], cwd=tmp_path, toplevel=tmp_path, whole_tree=False)
    assert normalize(["."], cwd=tmp_path, toplevel=tmp_path, whole_tree=True) == ["."]


def test_duplicates_collapse(tmp_path: Path) -> None:
    assert normalize(["a", "./a", "b/../a"], cwd=tmp_path, toplevel=tmp_path, whole_tree=False) == [
        "a"
    ]


# Any character but "/" and NUL; no name git itself refuses (".", "..", ".git").
name_chars = st.characters(blacklist_characters="/\0", blacklist_categories=["Cs"])
file_names = st.text(name_chars, min_size=1, max_size=24).filter(
    lambda n: (
        n not in (".", "..")
        and n.lower() != ".git"
        and len(n.encode()) < 200
        and not n.startswith(":")
    )
)


@pytest.fixture(scope="module")
def odd_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("odd") / "repo"
    root.mkdir()
    git(root, "init", "-q")
    write(root, "base.txt", "base\n")
    git(root, "add", "base.txt")
    git(root, "commit", "-qm", "base")
    return root


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=file_names, content=st.binary(max_size=64))
def test_odd_names_commit_exactly_that_file(odd_repo: Path, name: str, content: bytes) -> None:
    path = odd_repo / "odd" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content + b"!")  # never identical to a previous example's content
    bystander = odd_repo / "bystander.txt"
    bystander.write_text(f"changed for {name!r}\n")
    proc = subprocess.run(
        [WT_COMMIT, "-m", "odd name", "--", f"odd/{name}"],
        cwd=odd_repo,
        capture_output=True,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert committed_files(odd_repo) == [f"odd/{name}"]
    blob = subprocess.run(
        ["git", "cat-file", "blob", f"HEAD:odd/{name}"], cwd=odd_repo, capture_output=True
    ).stdout
    assert blob == content + b"!"
    path.unlink()
    assert (
        subprocess.run(
            [WT_COMMIT, "-m", "remove", "--", f"odd/{name}"], cwd=odd_repo, capture_output=True
        ).returncode
        == 0
    )
