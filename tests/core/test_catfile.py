"""core.catfile and commit.tip against git's own listing: for random trees (nested directories,
files, executables, links, submodules, an old tree's 100664 mode, names that sort around `/`),
in SHA-1 and SHA-256 repositories, the entries of named paths read through one
`cat-file --batch` are exactly what `git ls-tree -r --full-tree TREE -- PATHS` lists, in its
order; and the tip read that way is what rev-parse says, `.wtjournal` included."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from conftest import git, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worktree_tools.commit.tip import read_tip, tip_entries
from worktree_tools.core.catfile import CatFile
from worktree_tools.core.entries import tree_entries
from worktree_tools.core.errors import GitError
from worktree_tools.core.repo import Worktree, discover
from worktree_tools.core.statefiles import JOURNAL_CONFIG

SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NAMES = ["a", "b", "a.b", "a-b", "a0", "c d", "é", JOURNAL_CONFIG]
MODES = ["100644", "100755", "120000", "160000", "100664"]
paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
files = st.dictionaries(paths, st.sampled_from(MODES), min_size=1, max_size=12)


def _consistent(files: dict[str, str]) -> dict[str, str]:
    """Drop a file that is also a directory of another path."""
    dirs = {p.rpartition("/")[0] for p in files} | {
        "/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/"))
    }
    return {p: m for p, m in files.items() if p not in dirs}


def _mktree(repo: Path, files: dict[str, str], oid_len: int) -> str:
    """A tree of `files` (path -> mode), objects made up (`--missing`): only trees are read."""
    here: dict[str, str] = {}
    below: dict[str, dict[str, str]] = {}
    for path, mode in files.items():
        top, _, rest = path.partition("/")
        if rest:
            below.setdefault(top, {})[rest] = mode
        else:
            here[top] = mode
    lines = []
    for name, mode in here.items():
        kind = "commit" if mode == "160000" else "blob"
        fake = format(abs(hash((name, mode))) % 16**oid_len, f"0{oid_len}x")
        lines.append(f"{mode} {kind} {fake}\t{name}\0")
    for name, sub in below.items():
        lines.append(f"040000 tree {_mktree(repo, sub, oid_len)}\t{name}\0")
    return git(repo, "mktree", "-z", "--missing", input="".join(lines).encode()).strip()


def _repos() -> dict[str, tuple[Path, Worktree]]:
    made = {}
    for fmt in ("sha1", "sha256"):
        root = Path(tempfile.mkdtemp(prefix=f"catfile-{fmt}-"))
        git(root, "init", "-q", f"--object-format={fmt}")
        made[fmt] = (root, discover(root))
    return made


REPOS: dict[str, tuple[Path, Worktree]] = {}


@pytest.mark.parametrize("fmt", ["sha1", "sha256"])
@SETTINGS
@given(
    files=files,
    extra=st.lists(paths, max_size=4),
    pick=st.lists(st.integers(0, 100), max_size=6),
)
def test_named_entries_are_ls_trees(
    fmt: str, files: dict[str, str], extra: list[str], pick: list[int]
) -> None:
    if not REPOS:
        REPOS.update(_repos())
    repo, wt = REPOS[fmt]
    files = _consistent(files)
    oid_len = 40 if fmt == "sha1" else 64
    tree = _mktree(repo, files, oid_len)
    known = sorted(files) + sorted({p.rpartition("/")[0] for p in files if "/" in p})
    rels = sorted({known[i % len(known)] for i in pick} | set(extra))  # files, dirs, others
    with CatFile(wt) as objects:
        got = tip_entries(wt, objects, tree, tree, rels)
    want = tree_entries(wt, tree, rels)
    assert list(got.items()) == list(want.items())


def test_the_tip_as_rev_parse_says(repo: Path) -> None:
    wt = discover(repo)
    tip = git(repo, "rev-parse", "HEAD").strip()
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    with CatFile(wt) as objects:
        assert read_tip(wt, "refs/heads/main", objects) == (tip, tree, False)
        assert read_tip(wt, "refs/heads/unborn", objects)[0] is None
    write(repo, JOURNAL_CONFIG, "[journal]\n")
    git(repo, "add", JOURNAL_CONFIG)
    git(repo, "commit", "-qm", "journal")
    assert read_tip(wt, "refs/heads/main")[2] is True
    git(repo, "rm", "-q", JOURNAL_CONFIG)
    write(repo, f"{JOURNAL_CONFIG}/inside", "a directory of that name\n")
    git(repo, "add", JOURNAL_CONFIG)
    git(repo, "commit", "-qm", "a directory")
    assert read_tip(wt, "refs/heads/main")[2] is True  # as `git cat-file -e REF:.wtjournal`


def test_sha256_tip(sha256_repo: Path) -> None:
    wt = discover(sha256_repo)
    tip = git(sha256_repo, "rev-parse", "HEAD").strip()
    tree = git(sha256_repo, "rev-parse", "HEAD^{tree}").strip()
    with CatFile(wt) as objects:
        assert read_tip(wt, "refs/heads/main", objects) == (tip, tree, False)
        assert list(tip_entries(wt, objects, tip, tree, ["src/app.py", "README"])) == [
            "README",
            "src/app.py",
        ]


def test_not_a_tree_is_a_git_error(repo: Path) -> None:
    wt = discover(repo)
    blob = git(repo, "rev-parse", "HEAD:README").strip()
    with CatFile(wt) as objects, pytest.raises(GitError, match="is not a tree"):
        objects.tree(blob)


def test_a_missing_name_with_a_space_and_an_abbreviated_tree_id(repo: Path) -> None:
    """`NAME missing` where NAME holds a space is missing, not a crash; a tree asked for by an
    abbreviated id is read with the id length of the repository's format."""
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    wt = discover(repo)
    with CatFile(wt) as objects:
        assert objects.get("no such thing") is None
        assert objects.tree(tree[:12]) == objects.tree(tree)
        assert len(objects.tree(tree[:12])) == 2  # README and src
