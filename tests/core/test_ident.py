"""core.ident and the commit written in-process (core.commits.Here): the bytes `git commit-tree`
writes, for identities from the environment and every configuration key git reads them from; and
everything git would guess, refuse or convert left to git."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WT_COMMIT, git, git_commands, write
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from worktree_tools.commit.build import PendingConfig
from worktree_tools.core import commits, ident
from worktree_tools.core.loose import LooseObjects

IDENT_ENV = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_DATE",
)
CONFIG = ident.CONFIG_KEYS[:6]  # the name and email keys
STAMP = re.compile(rb" (\d+) ([+-]\d{4})$")


@pytest.fixture(scope="module")
def bare_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME without any identity (the hermetic one sets user.name and user.email)."""
    home = tmp_path_factory.mktemp("identless-home")
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    return home


@pytest.fixture
def identless(repo: Path, bare_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("HOME", os.fspath(bare_home))
    for var in IDENT_ENV:
        monkeypatch.delenv(var, raising=False)
    yield repo


def _split(line: bytes) -> tuple[bytes, int, bytes]:
    found = STAMP.search(line)
    assert found is not None, line
    return line[: found.start()], int(found.group(1)), found.group(2)


def _git_commit(repo: Path, tree: str, parent: str, message: bytes) -> bytes | None:
    proc = subprocess.run(
        ["git", "commit-tree", tree, "-p", parent, "-F", "-"],
        cwd=repo,
        input=message,
        capture_output=True,
    )
    if proc.returncode != 0:
        return None
    oid = proc.stdout.decode().strip()
    return subprocess.run(
        ["git", "cat-file", "commit", oid], cwd=repo, capture_output=True, check=True
    ).stdout


def _ours(repo: Path, tree: str, parent: str, message: bytes) -> bytes | None:
    config = PendingConfig(repo).read()
    store = LooseObjects(os.fspath(repo / ".git" / "objects"), len(tree))
    oid = commits.Here(store, config, config.valueless).commit(tree, [parent], message)
    if oid is None:
        return None
    return subprocess.run(
        ["git", "cat-file", "commit", oid], cwd=repo, capture_output=True, check=True
    ).stdout


def _same_but_the_time(ours: bytes, theirs: bytes) -> None:
    """Equal objects, but for the seconds (each took its own `now`)."""
    a, b = ours.split(b"\n"), theirs.split(b"\n")
    assert len(a) == len(b)
    for mine, git_line in zip(a, b, strict=True):
        if mine.startswith((b"author ", b"committer ")):
            m, t1, z1 = _split(mine)
            g, t2, z2 = _split(git_line)
            assert (m, z1) == (g, z2)
            assert abs(t1 - t2) <= 2
        else:
            assert mine == git_line


# Names and emails with what git strips (crud at the ends, <, > and newlines inside), spaces,
# non-ASCII, and the empty string.
WORDS = st.text(alphabet=st.sampled_from(list("ab Z.,:;<>\"\\'\n\t-é€")), max_size=12)
WHERE = st.sampled_from(["env", "own", "user", "none"])


def _place(
    repo: Path,
    mp: pytest.MonkeyPatch,
    role: str,
    what: str,
    where: str,
    value: str,
) -> None:
    if where == "env":
        mp.setenv(f"GIT_{role.upper()}_{what.upper()}", value)
    elif where == "own":
        git(repo, "config", f"{role}.{what}", value)
    elif where == "user":
        git(repo, "config", f"user.{what}", value)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    names=st.tuples(WORDS, WORDS),
    emails=st.tuples(WORDS, WORDS),
    where=st.tuples(WHERE, WHERE, WHERE, WHERE),
    email_env=st.one_of(st.none(), WORDS),
)
@example(
    names=("A U Thor", "C O Mitter"),
    emails=("a@x", "c@x"),
    where=("env", "env", "env", "env"),
    email_env=None,
)
@example(
    names=("..Thor<>", "x"),
    emails=("<a@x>", "c"),
    where=("own", "user", "own", "user"),
    email_env=None,
)
@example(
    names=("n", "n"), emails=("", ""), where=("user", "user", "none", "none"), email_env="from@env"
)
@example(
    names=("n", "n"),
    emails=("", "c@x"),
    where=("user", "user", "none", "own"),
    email_env="from@env",
)
@example(names=("", "n"), emails=("a", "a"), where=("env", "user", "user", "user"), email_env=None)
def test_identity_is_the_one_commit_tree_writes(
    identless: Path,
    names: tuple[str, str],
    emails: tuple[str, str],
    where: tuple[str, str, str, str],
    email_env: str | None,
) -> None:
    repo = identless
    for key in CONFIG:
        git(repo, "config", "--unset-all", key, check=False)
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    parent = git(repo, "rev-parse", "HEAD").strip()
    with pytest.MonkeyPatch.context() as mp:
        for var in IDENT_ENV:
            mp.delenv(var, raising=False)
        _place(repo, mp, "author", "name", where[0], names[0])
        _place(repo, mp, "committer", "name", where[1], names[1])
        _place(repo, mp, "author", "email", where[2], emails[0])
        _place(repo, mp, "committer", "email", where[3], emails[1])
        if email_env is not None:
            mp.setenv("EMAIL", email_env)
        message = b"subject\n\nbody\n"
        ours = _ours(repo, tree, parent, message)
        theirs = _git_commit(repo, tree, parent, message)
    if ours is None:
        return  # left to git: nothing to compare (test_left_to_git names those cases)
    assert theirs is not None, f"we wrote a commit git refuses:\n{ours!r}"
    _same_but_the_time(ours, theirs)


@pytest.mark.parametrize(
    "zone", ["UTC", "Asia/Kolkata", "America/St_Johns", "Australia/Eucla", "Pacific/Chatham"]
)
def test_the_offset_is_gits(repo: Path, zone: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
        parent = git(repo, "rev-parse", "HEAD").strip()
        ours = _ours(repo, tree, parent, b"m\n")
        theirs = _git_commit(repo, tree, parent, b"m\n")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert ours is not None and theirs is not None
    _same_but_the_time(ours, theirs)


def test_offsets_across_a_year_match_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """The offset for any instant, as `date +%z` gives it (daylight saving included)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        for day in range(0, 365, 7):
            seconds = 1_700_000_000 + day * 86400
            want = subprocess.run(
                ["date", "-d", f"@{seconds}", "+%z"], capture_output=True, text=True, check=True
            ).stdout.strip()
            assert ident._offset(seconds).decode() == want
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        ({"env": {"GIT_AUTHOR_DATE": "2005-04-07T22:13:13"}}, "a date git parses"),
        ({"env": {"GIT_COMMITTER_DATE": "@0 +0000"}}, "a date git parses"),
        ({"env": {"GIT_AUTHOR_NAME": ""}}, "an empty name git refuses"),
        ({"env": {"GIT_AUTHOR_NAME": "..."}}, "a name of crud only"),
        ({"config": ["i18n.commitEncoding", "ISO-8859-1"]}, "another encoding"),
        ({"raw": "[user]\n\tname\n"}, "a name without a value"),
        ({"unset": ["user.name", "user.email"]}, "an identity git would guess"),
    ],
)
def test_left_to_git(repo: Path, monkeypatch: pytest.MonkeyPatch, setup: dict, why: str) -> None:  # type: ignore[type-arg]
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    parent = git(repo, "rev-parse", "HEAD").strip()
    for key, value in setup.get("env", {}).items():
        monkeypatch.setenv(key, value)
    if "config" in setup:
        git(repo, "config", *setup["config"])
    if "raw" in setup:
        with open(repo / ".git" / "config", "a") as f:
            f.write(setup["raw"])
    for key in setup.get("unset", []):
        monkeypatch.setenv("HOME", os.fspath(repo / "no-home"))
        git(repo, "config", "--unset-all", key, check=False)
    assert _ours(repo, tree, parent, b"m\n") is None, why


@pytest.mark.parametrize(
    "message", [b"latin-1 \xe9\n", b"surrogate \xed\xa0\x80\n", b"non-character \xef\xbf\xbe\n",
                b"U+FDD0 \xef\xb7\x90\n"],
)  # fmt: skip
def test_text_git_would_rewrite_is_left_to_git(repo: Path, message: bytes) -> None:
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    parent = git(repo, "rev-parse", "HEAD").strip()
    assert not ident.valid_utf8(message)
    assert _ours(repo, tree, parent, message) is None


@given(st.binary(max_size=40))
def test_valid_utf8_is_python_strict_without_non_characters(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        expected = False
    else:
        expected = not any(0xFDD0 <= ord(c) <= 0xFDEF or (ord(c) & 0xFFFE) == 0xFFFE for c in text)
    assert ident.valid_utf8(data) is expected


def _traced(repo: Path, tmp_path: Path, env: dict[str, str], *args: str) -> list[str]:
    trace = tmp_path / "trace"
    trace.unlink(missing_ok=True)
    out = subprocess.run(
        [WT_COMMIT, *args],
        cwd=repo,
        capture_output=True,
        env={**os.environ, **env, "GIT_TRACE": os.fspath(trace)},
    )
    assert out.returncode == 0, out.stderr
    return [command.split()[0] for command in git_commands(trace)]


def test_wt_commit_writes_the_commit_itself_as_git_would(repo: Path, tmp_path: Path) -> None:
    write(repo, "a.txt", "a\n")
    env = {"GIT_AUTHOR_NAME": " Ann <ann> ", "GIT_AUTHOR_EMAIL": "<ann@x.example>."}
    commands = _traced(repo, tmp_path, env, "-m", "one", "a.txt")
    assert "commit-tree" not in commands
    body = git(repo, "cat-file", "commit", "HEAD")
    author = next(line for line in body.splitlines() if line.startswith("author "))
    var = subprocess.run(
        ["git", "var", "GIT_AUTHOR_IDENT"], cwd=repo, capture_output=True, text=True,
        env={**os.environ, **env},
    ).stdout.strip()  # fmt: skip
    assert (
        author.rsplit(" ", 2)[0]
        == "author " + var.rsplit(" ", 2)[0]
        == "author Ann ann <ann@x.example>"
    )
    assert git(repo, "fsck", "--strict") == ""


def test_a_date_from_the_environment_goes_through_commit_tree(repo: Path, tmp_path: Path) -> None:
    write(repo, "a.txt", "a\n")
    env = {"GIT_AUTHOR_DATE": "2005-04-07T22:13:13 +0200"}
    commands = _traced(repo, tmp_path, env, "-m", "dated", "a.txt")
    assert "commit-tree" in commands
    assert git(repo, "log", "-1", "--format=%ad", "--date=raw").strip() == "1112904793 +0200"


def test_use_config_only_refuses_email_from_the_environment(
    identless: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """user.useConfigOnly: with no *.email key git refuses rather than take $EMAIL; so must
    we (review finding: the commit was written as `Alice <env@mail>`)."""
    repo = identless
    git(repo, "config", "user.name", "Alice")
    git(repo, "config", "user.useConfigOnly", "true")
    monkeypatch.setenv("EMAIL", "env@mail")
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    parent = git(repo, "rev-parse", "HEAD").strip()
    assert _git_commit(repo, tree, parent, b"m\n") is None  # git refuses
    assert _ours(repo, tree, parent, b"m\n") is None
    git(repo, "config", "user.useConfigOnly", "false")
    ours = _ours(repo, tree, parent, b"m\n")
    theirs = _git_commit(repo, tree, parent, b"m\n")
    assert ours is not None and theirs is not None
    _same_but_the_time(ours, theirs)
