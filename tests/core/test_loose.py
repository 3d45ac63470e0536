"""core.loose writes the loose objects git writes: the same ids as `git hash-object` and `git
mktree` (in both object formats, a directory's name sorted as if it ended in `/`), files git
reads back and fsck accepts, an existing object freshened rather than rewritten, git's file and
directory modes, no temporary file left. And wt-commit uses it only when the configuration asks
for nothing more (for_config), falling back to git's hash-object and mktree otherwise."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git, git_commands, write, wt_commit
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from worktree_tools.commit.build import PendingConfig
from worktree_tools.core import treeedit
from worktree_tools.core.entries import Entry, index_info
from worktree_tools.core.errors import WtError
from worktree_tools.core.loose import BIG_FILE, LooseObjects, tree_content
from worktree_tools.core.repo import discover

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FORMATS = {"sha1": 40, "sha256": 64}
DAY = 24 * 3600


def _init(root: Path, object_format: str = "sha1") -> Path:
    root.mkdir()
    git(root, "init", "-q", f"--object-format={object_format}")
    return root


@pytest.fixture(params=sorted(FORMATS))
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, int]:
    """An empty repository in each object format, and the length of its ids."""
    object_format: str = request.param
    return _init(tmp_path / "r", object_format), FORMATS[object_format]


def _objects(root: Path) -> str:
    return os.fspath(root / ".git" / "objects")


def _raw(root: Path, *args: str, input: bytes | None = None) -> bytes:
    """git's stdout as bytes (conftest.git decodes it)."""
    proc = subprocess.run(["git", *args], cwd=root, input=input, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def _path(root: Path, oid: str) -> Path:
    return root / ".git" / "objects" / oid[:2] / oid[2:]


def _leftovers(root: Path) -> list[str]:
    return [p.name for p in (root / ".git" / "objects").rglob("tmp_obj_*")]


def _fsck(root: Path) -> None:
    proc = subprocess.run(["git", "fsck", "--strict"], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in proc.stderr and "warning" not in proc.stderr, proc.stderr


# -- blobs ---------------------------------------------------------------------------------------

blobs = st.one_of(
    st.binary(max_size=2048),
    st.sampled_from([b"", b"\0", b"blob 0\0", b"\n" * 5000, bytes(range(256)) * 64]),
)


@SETTINGS
@given(data=blobs)
@example(data=b"")
def test_a_blob_is_the_object_git_writes(fresh: tuple[Path, int], data: bytes) -> None:
    root, hex_len = fresh
    oid = LooseObjects(_objects(root), hex_len).write(b"blob", data)
    assert len(oid) == hex_len
    assert oid == git(root, "hash-object", "--stdin", input=data).strip()
    assert _raw(root, "cat-file", "blob", oid) == data
    assert zlib.decompress(_path(root, oid).read_bytes()) == b"blob %d\0" % len(data) + data
    assert _leftovers(root) == []
    _fsck(root)


# -- trees ---------------------------------------------------------------------------------------

# Bytes around '/' (0x2f) in byte order, so that names are prefixes of each other and a
# directory's implied '/' falls between them: "a-" < "a." < "a/" < "a0".
_PARTS = [b"a", b"-", b".", b"0", b" ", b"\x01", b"\x7f", b"\xff"]
names = st.one_of(
    st.lists(st.sampled_from(_PARTS), min_size=1, max_size=4).map(b"".join),
    st.binary(min_size=1, max_size=10).filter(lambda n: b"\0" not in n and b"/" not in n),
)
TREE_MODES = ("100644", "100755", "120000", "40000", "040000", "160000", "100664")
listings = st.dictionaries(
    names, st.tuples(st.sampled_from(TREE_MODES), st.binary(min_size=32, max_size=32)), max_size=12
)


def _kind(mode: str) -> str:
    value = int(mode, 8)
    return "tree" if value == 0o40000 else "commit" if value == 0o160000 else "blob"


def _mktree(root: Path, listing: dict[bytes, tuple[str, str]]) -> str:
    lines = b"".join(
        f"{mode} {_kind(mode)} {oid}\t".encode() + name + b"\0"
        for name, (mode, oid) in listing.items()
    )
    return git(root, "mktree", "-z", "--missing", input=lines).strip()


@SETTINGS
@given(drawn=listings)
@example(  # a directory and files whose names differ from it by one trailing byte
    drawn={
        b"foo": ("40000", b"\1" * 32),
        b"foo-": ("100644", b"\2" * 32),
        b"foo.": ("100755", b"\3" * 32),
        b"foo0": ("120000", b"\4" * 32),
        b"fo": ("160000", b"\5" * 32),
        b"foo.c": ("100664", b"\6" * 32),
    }
)
@example(drawn={b"a": ("160000", b"\1" * 32), b"a.": ("100644", b"\2" * 32)})  # a gitlink: a file
@example(drawn={})
def test_a_tree_is_the_object_git_mktree_writes(
    fresh: tuple[Path, int], drawn: dict[bytes, tuple[str, bytes]]
) -> None:
    root, hex_len = fresh
    listing = {name: (mode, raw.hex()[:hex_len]) for name, (mode, raw) in drawn.items()}
    content = tree_content(listing)
    oid = LooseObjects(_objects(root), hex_len).write(b"tree", content)
    assert oid == _mktree(root, listing), listing
    assert _raw(root, "cat-file", "tree", oid) == content
    assert _leftovers(root) == []


def _names(content: bytes, hex_len: int) -> list[bytes]:
    out = []
    while content:
        head, _, content = content.partition(b"\0")
        out.append(head.split(b" ", 1)[1])
        content = content[hex_len // 2 :]
    return out


def test_a_directory_sorts_as_if_its_name_ended_in_a_slash() -> None:
    oid = "1" * 40
    listing = {
        n: (m, oid)
        for n, m in [(b"a0", "100644"), (b"a", "40000"), (b"a.c", "100644"), (b"a-", "100644")]
    }
    assert _names(tree_content(listing), 40) == [b"a-", b"a.c", b"a", b"a0"]
    listing[b"a"] = ("100644", oid)  # the same name as a file sorts first
    assert _names(tree_content(listing), 40) == [b"a", b"a-", b"a.c", b"a0"]
    assert tree_content({b"d": ("040000", oid)}).startswith(b"40000 d\0")  # no leading zero


# treeedit with a writer gives the trees `git mktree --batch` gives (and an index gives), on
# random trees and changes whose names are prefixes of each other around '/'.
paths = st.lists(st.sampled_from(["a", "a.c", "a-", "a0", "b"]), min_size=1, max_size=3).map(
    "/".join
)
present = st.one_of(
    st.tuples(st.sampled_from(("100644", "100755", "120000")), st.integers(0, 3)),
    st.just(("160000", 0)),
)


def _entry(spec: tuple[str, int] | None, blobs: list[str], head: str) -> Entry | None:
    if spec is None:
        return None
    mode, i = spec
    return Entry(mode, head if mode == "160000" else blobs[i])


def _index_tree(root: Path, index: Path, base: str | None, changes: bytes) -> str:
    env = {"GIT_INDEX_FILE": os.fspath(index)}
    index.unlink(missing_ok=True)
    if base is not None:
        git(root, "read-tree", base, env=env)
    git(root, "update-index", "-z", "--index-info", input=changes, env=env)
    return git(root, "write-tree", env=env).strip()


@pytest.mark.parametrize("object_format", sorted(FORMATS))
@settings(max_examples=15, deadline=None)
@given(
    base=st.dictionaries(paths, present, max_size=6),
    changes=st.dictionaries(paths, st.one_of(st.none(), present), min_size=1, max_size=5),
)
def test_treeedit_with_a_writer_gives_the_trees_mktree_gives(
    object_format: str,
    base: dict[str, tuple[str, int]],
    changes: dict[str, tuple[str, int] | None],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = _init(Path(tmp) / "r", object_format)
        git(root, "commit", "-q", "--allow-empty", "-m", "for gitlinks")
        head = git(root, "rev-parse", "HEAD").strip()
        hex_len = len(head)
        blob_ids = [
            git(root, "hash-object", "-w", "--stdin", input=b"%d\n" % i).strip() for i in range(4)
        ]
        base_changes = sorted((p, _entry(e, blob_ids, head)) for p, e in base.items())
        base_tree = _index_tree(root, Path(tmp) / "i", None, index_info(base_changes, hex_len))
        wanted = [(p, _entry(e, blob_ids, head)) for p, e in changes.items()]
        wt = discover(root)
        store = LooseObjects(_objects(root), hex_len)
        ours = treeedit.edit(wt, base_tree, wanted, store=store)  # first: these files are ours
        by_git = treeedit.edit(wt, base_tree, wanted)
        assert ours == by_git, (base, changes)
        ordered = sorted(wanted, key=lambda c: os.fsencode(c[0]))
        index = _index_tree(root, Path(tmp) / "i", base_tree, index_info(ordered, hex_len))
        assert by_git == index
        commit = git(root, "commit-tree", "-m", "edited", by_git).strip()
        git(root, "update-ref", "refs/heads/edited", commit)
        _fsck(root)


# -- freshening, modes, leftovers, errors ------------------------------------------------------


def test_an_object_already_there_is_freshened_not_rewritten(
    fresh: tuple[Path, int], tmp_path: Path
) -> None:
    root, hex_len = fresh
    oid = git(root, "hash-object", "-w", "--stdin", input=b"old object\n").strip()
    path = _path(root, oid)
    month_ago = time.time() - 30 * DAY
    os.utime(path, (month_ago, month_ago))
    pin = tmp_path / "pin"  # a second name keeps the inode: a new file cannot reuse its number
    os.link(path, pin)
    started = time.time()
    assert LooseObjects(_objects(root), hex_len).write(b"blob", b"old object\n") == oid
    assert os.path.samefile(path, pin)  # not written again
    assert path.stat().st_mtime >= started - 1  # freshened: a gc would not prune it as old
    assert _leftovers(root) == []
    _fsck(root)


def test_an_object_only_in_a_pack_gets_a_loose_copy_git_accepts(repo: Path) -> None:
    """A documented difference: git would freshen the pack; the copy is dropped by gc."""
    git(repo, "gc", "-q")
    oid = git(repo, "rev-parse", "HEAD:README").strip()
    assert not _path(repo, oid).exists()
    assert LooseObjects(_objects(repo), 40).write(b"blob", b"hello\n") == oid
    assert _path(repo, oid).is_file()
    _fsck(repo)
    git(repo, "prune-packed")
    assert not _path(repo, oid).exists()


@pytest.fixture(params=[(0o027, 0o440, 0o750), (0o002, 0o444, 0o775)], ids=["umask027", "umask002"])
def umask(request: pytest.FixtureRequest) -> Iterator[tuple[int, int]]:
    """A umask set for the test (and the git it runs), and the modes git then gives a new
    object file and its new directory."""
    mask, file_mode, dir_mode = request.param
    old = os.umask(mask)
    try:
        yield file_mode, dir_mode
    finally:
        os.umask(old)


def test_modes_follow_the_umask_as_gits_do(tmp_path: Path, umask: tuple[int, int]) -> None:
    file_mode, dir_mode = umask
    root = _init(tmp_path / "r")
    ours = LooseObjects(_objects(root), 40).write(b"blob", b"ours\n")
    theirs = git(root, "hash-object", "-w", "--stdin", input=b"theirs\n").strip()  # same umask
    for oid in (ours, theirs):
        path = _path(root, oid)
        assert stat.S_IMODE(path.stat().st_mode) == file_mode, oct(path.stat().st_mode)
        assert stat.S_IMODE(path.parent.stat().st_mode) == dir_mode, oct(path.parent.stat().st_mode)
    assert _leftovers(root) == []
    _fsck(root)


def test_a_write_that_cannot_be_made_is_a_wterror(tmp_path: Path) -> None:
    """Whoever runs it: the object's directory is a file."""
    root = _init(tmp_path / "r")
    oid = git(root, "hash-object", "--stdin", input=b"blocked\n").strip()
    (root / ".git" / "objects" / oid[:2]).write_bytes(b"not a directory")
    with pytest.raises(WtError) as err:
        LooseObjects(_objects(root), 40).write(b"blob", b"blocked\n")
    assert _objects(root) in err.value.message and err.value.fix


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root ignores permissions: a read-only directory is writable"
)
@pytest.mark.parametrize("existing", [False, True], ids=["new-dir", "read-only-dir"])
def test_a_read_only_object_store_is_a_wterror(tmp_path: Path, existing: bool) -> None:
    root = _init(tmp_path / "r")
    oid = git(root, "hash-object", "--stdin", input=b"read-only\n").strip()
    locked = root / ".git" / "objects"
    if existing:
        locked = locked / oid[:2]
        locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(WtError) as err:
            LooseObjects(_objects(root), 40).write(b"blob", b"read-only\n")
    finally:
        locked.chmod(0o755)
    assert "cannot add an object" in err.value.message
    assert not _path(root, oid).exists() and _leftovers(root) == []


# -- for_config ----------------------------------------------------------------------------------

NOWHERE = "/nonexistent/objects"  # for_config reads no file


@pytest.mark.parametrize(
    "config",
    [
        *(
            {"core.sharedrepository": v}
            for v in ("group", "all", "world", "everybody", "0660", "0640", "1", "2", "true", "yes")
        ),
        {"core.fsync": "loose-object"},
        {"core.fsyncobjectfiles": "true"},
        {"core.fsyncmethod": "fsync"},
        {"core.bigfilethreshold": "1m"},
        {"extensions.compatobjectformat": "sha256"},
        *({"core.compression": v} for v in ("12", "10", "-2", "x", "", "true", "1.5", "\u0663")),
        *({"core.loosecompression": v} for v in ("12", "x")),
        {"core.loosecompression": "x", "core.compression": "1"},
    ],
    ids=repr,
)
def test_for_config_leaves_to_git_what_only_git_does(config: dict[str, str]) -> None:
    assert LooseObjects.for_config(NOWHERE, config, 40) is None


@pytest.mark.parametrize(
    ("config", "level"),
    [
        ({}, 1),  # git's core.looseCompression default: Z_BEST_SPEED
        *(({"core.sharedrepository": v}, 1) for v in ("umask", "false", "no", "off", "0", "000")),
        ({"core.compression": "9"}, 9),
        ({"core.compression": "0"}, 0),
        ({"core.compression": "-1"}, zlib.Z_DEFAULT_COMPRESSION),
        ({"core.loosecompression": "3", "core.compression": "9"}, 3),
        ({"core.loosecompression": "-1", "core.compression": "9"}, zlib.Z_DEFAULT_COMPRESSION),
        ({"core.compression": " 7 "}, 7),
    ],
    ids=repr,
)
def test_for_config_gives_a_writer(config: dict[str, str], level: int) -> None:
    for hex_len in (40, 64):
        store = LooseObjects.for_config(NOWHERE, config, hex_len)
        assert store is not None and store.level == level
        assert store.directory == NOWHERE
    assert LooseObjects.for_config(NOWHERE, config, 32) is None  # no such object format


def test_a_big_blob_is_left_to_git() -> None:
    store = LooseObjects(NOWHERE, 40)
    assert store.takes([]) and store.takes([0, BIG_FILE - 1])
    assert not store.takes([1, BIG_FILE])


@pytest.mark.parametrize(
    "config",
    [
        {"core.compression": "08"},
        {"core.loosecompression": "1", "core.compression": "12"},
    ],
    ids=repr,
)
def test_a_level_git_refuses_is_left_to_git(tmp_path: Path, config: dict[str, str]) -> None:
    root = _init(tmp_path / "r")
    options = [arg for key, value in config.items() for arg in ("-c", f"{key}={value}")]
    refused = subprocess.run(
        ["git", *options, "hash-object", "-w", "--stdin"], cwd=root, input=b"x", capture_output=True
    )
    assert refused.returncode != 0 and b"fatal" in refused.stderr  # git does not accept it
    assert LooseObjects.for_config(_objects(root), config, 40) is None


def test_the_level_is_the_one_git_writes_with(tmp_path: Path) -> None:
    """A zlib stream's header names its level's class (FLEVEL): ours is git's, level by level."""
    root = _init(tmp_path / "r")
    for level in range(-1, 10):
        key = {"core.loosecompression": str(level)}
        store = LooseObjects.for_config(_objects(root), key, 40)
        assert store is not None
        ours = store.write(b"blob", b"ours %d\n" % level * 50)
        theirs = git(
            root,
            "-c",
            f"core.looseCompression={level}",
            "hash-object",
            "-w",
            "--stdin",
            input=b"theirs %d\n" % level * 50,
        ).strip()
        heads = [_path(root, oid).read_bytes()[:2] for oid in (ours, theirs)]
        assert heads[0] == heads[1], (level, heads)
    _fsck(root)


@pytest.mark.parametrize("key", ["sharedRepository", "fsyncObjectFiles"])
def test_a_valueless_key_leaves_it_to_git(repo: Path, key: str) -> None:
    """`[core] sharedRepository` alone is `true` to git (group permissions): PendingConfig
    reads it so, and for_config leaves the writing to git."""
    with (repo / ".git" / "config").open("a") as f:
        f.write(f"[core]\n\t{key}\n")
    config = PendingConfig(repo).read()
    assert config[f"core.{key.lower()}"] == "true"
    assert LooseObjects.for_config(_objects(repo), config, 40) is None


# -- end to end through wt-commit --------------------------------------------------------------


@pytest.fixture
def umask_077() -> Iterator[None]:
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("shared", [False, True], ids=["default", "sharedRepository=group"])
def test_wt_commit_writes_its_objects_itself_unless_shared(
    repo: Path, tmp_path: Path, shared: bool, umask_077: None
) -> None:
    """With a umask of 077 git gives a shared repository's new objects group read (0440), where
    a plain one's are 0400: the fallback is git's own writing, not only another process."""
    if shared:
        git(repo, "config", "core.sharedRepository", "group")
    token = os.urandom(8).hex()  # new blobs, so new object files
    write(repo, "src/app.py", f"print('{token}')\n")
    write(repo, "src/deep/new.py", f"new {token}\n")
    write(repo, "src.c", f"beside src {token}\n")  # sorts before the directory src ("src/")
    write(repo, "src0", f"after src {token}\n")  # sorts after it
    trace = tmp_path / "trace"
    paths = ["src/app.py", "src/deep/new.py", "src.c", "src0"]
    proc = wt_commit(repo, "-m", "m", "--", *paths, env={"GIT_TRACE": os.fspath(trace)})
    assert proc.returncode == 0, proc.stderr
    _fsck(repo)
    for path in paths:
        assert git(repo, "show", f"HEAD:{path}") == (repo / path).read_text()
    assert git(repo, "ls-tree", "--name-only", "HEAD").split() == ["README", "src.c", "src", "src0"]
    ran = git_commands(trace)
    writers = [c for c in ran if c.startswith(("hash-object", "mktree"))]
    if shared:
        assert {c.split()[0] for c in writers} == {"hash-object", "mktree"}, ran
    else:
        assert writers == [], ran
    blob = git(repo, "rev-parse", "HEAD:src/deep/new.py").strip()
    assert stat.S_IMODE(_path(repo, blob).stat().st_mode) == (0o440 if shared else 0o400)
    assert _leftovers(repo) == []


def test_wt_commit_in_a_sha256_repository(sha256_repo: Path, tmp_path: Path) -> None:
    root = sha256_repo
    parent = git(root, "rev-parse", "HEAD").strip()
    write(root, "README", "changed\n")
    write(root, "a/b/c/new.txt", "nested\n")
    trace = tmp_path / "trace"
    proc = wt_commit(
        root, "-m", "m", "--", "README", "a/b/c/new.txt", env={"GIT_TRACE": os.fspath(trace)}
    )
    assert proc.returncode == 0, proc.stderr
    assert not [c for c in git_commands(trace) if c.startswith(("hash-object", "mktree"))]
    _fsck(root)
    listed = git(root, "ls-tree", "-r", "HEAD").splitlines()
    by_path = {line.split("\t")[1]: line.split("\t")[0].split() for line in listed}
    assert sorted(by_path) == ["README", "a/b/c/new.txt", "src/app.py"]
    for path in ("README", "a/b/c/new.txt"):
        mode, kind, oid = by_path[path]
        assert (mode, kind, len(oid)) == ("100644", "blob", 64)
        assert oid == git(root, "hash-object", path).strip()
    # the tree an index gives for the same change
    env = {"GIT_INDEX_FILE": os.fspath(tmp_path / "index")}
    git(root, "read-tree", parent, env=env)
    git(root, "add", "README", "a/b/c/new.txt", env=env)
    assert git(root, "write-tree", env=env) == git(root, "rev-parse", "HEAD^{tree}")
