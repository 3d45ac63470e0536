"""Attacks on the commit written in-process (core.ident, core.commits.Here): environments,
configurations and messages where it might differ from what `git commit-tree` writes, or write
what git refuses. The divergences an attack found come first, fixed since: each asserts git's
behaviour."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WT_COMMIT, git, write

from worktree_tools.commit.build import PendingConfig
from worktree_tools.core import commits
from worktree_tools.core.loose import LooseObjects

from .test_ident import _git_commit as commit_tree

STAMP = re.compile(rb" (\d+) ([+-]\d{4})$")
ZONEINFO = Path("/usr/share/zoneinfo")


def _tip(repo: Path) -> tuple[str, str]:
    return (
        git(repo, "rev-parse", "HEAD^{tree}").strip(),
        git(repo, "rev-parse", "HEAD").strip(),
    )


def _git_commit(repo: Path, message: bytes) -> bytes | None:
    """The commit object `git commit-tree` writes on HEAD's tree and HEAD (None: refused)."""
    return commit_tree(repo, *_tip(repo), message)


def _ours(repo: Path, message: bytes) -> bytes | None:
    """The commit object Here writes (None: left to git)."""
    tree, parent = _tip(repo)
    config = PendingConfig(repo).read()
    objects = git(repo, "rev-parse", "--path-format=absolute", "--git-common-dir").strip()
    store = LooseObjects(os.path.join(objects, "objects"), len(tree))
    oid = commits.Here(store, config, config.valueless).commit(tree, [parent], message)
    return None if oid is None else _cat(repo, oid)


def _cat(repo: Path, oid: str) -> bytes:
    return subprocess.run(
        ["git", "cat-file", "commit", oid], cwd=repo, capture_output=True, check=True
    ).stdout


def _without_seconds(body: bytes) -> bytes:
    """The object with the seconds of each ident line blanked (each side took its own now)."""
    out = []
    for line in body.split(b"\n"):
        if line.startswith((b"author ", b"committer ")):
            found = STAMP.search(line)
            assert found is not None, line
            line = line[: found.start()] + b" SECONDS " + found.group(2)
        out.append(line)
    return b"\n".join(out)


def _same(repo: Path, message: bytes = b"subject\n\nbody\n") -> None:
    """Here writes what commit-tree writes, or leaves it to git; never what git refuses."""
    ours = _ours(repo, message)
    theirs = _git_commit(repo, message)
    if ours is None:
        return
    assert theirs is not None, f"we wrote a commit git refuses:\n{ours!r}"
    assert _without_seconds(ours) == _without_seconds(theirs)


def _idents(repo: Path, rev: str = "HEAD") -> list[bytes]:
    body = _cat(repo, git(repo, "rev-parse", rev).strip())
    return [
        line
        for line in _without_seconds(body).split(b"\n")
        if line.startswith((b"author ", b"committer "))
    ]


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set TZ with `zone.setenv("TZ", ...)`; this process's time zone is restored after."""
    yield monkeypatch
    monkeypatch.delenv("TZ", raising=False)
    monkeypatch.undo()
    time.tzset()


# --- divergences -------------------------------------------------------------------------------


@pytest.mark.parametrize("message", [b"subject\n\nbo\0dy\n", b"sub\0ject\n"])
def test_a_nul_in_the_message_is_refused_as_git_refuses_it(repo: Path, message: bytes) -> None:
    before = git(repo, "rev-parse", "HEAD").strip()
    write(repo, "msg", message)
    write(repo, "a.txt", "a\n")
    proc = subprocess.run(
        [WT_COMMIT, "-F", os.fspath(repo / "msg"), "a.txt"], cwd=repo, capture_output=True
    )
    assert proc.returncode != 0
    assert git(repo, "rev-parse", "HEAD").strip() == before
    assert b"NUL byte" in proc.stderr, proc.stderr
    assert _git_commit(repo, message) is None  # git refuses it


@pytest.mark.parametrize("tz", ["right/Europe/Berlin", "right/Asia/Kolkata"])
def test_the_offset_in_a_leap_second_zone_is_gits(
    repo: Path, zone: pytest.MonkeyPatch, tz: str
) -> None:
    if not (ZONEINFO / tz).exists():
        pytest.skip(f"no {tz} time zone here")
    zone.setenv("TZ", tz)
    time.tzset()
    _same(repo)


@pytest.fixture
def latin1_locale(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a Latin-1 locale (built with localedef into a private LOCPATH)."""
    where = tmp_path_factory.mktemp("locales")
    if shutil.which("localedef") is None:
        pytest.skip("no localedef")
    built = subprocess.run(
        ["localedef", "-i", "en_US", "-f", "ISO-8859-1", os.fspath(where / "en_US.ISO-8859-1")],
        capture_output=True,
    )
    if built.returncode != 0:
        pytest.skip(f"cannot build a Latin-1 locale: {built.stderr!r}")
    return {"LOCPATH": os.fspath(where), "LC_ALL": "en_US.ISO-8859-1"}


def test_a_name_from_config_in_a_latin1_locale(repo: Path, latin1_locale: dict[str, str]) -> None:
    git(repo, "config", "user.name", "Zoë €uro")
    write(repo, "a.txt", "a\n")
    env = {**os.environ, **latin1_locale, "TZ": "UTC"}
    proc = subprocess.run(
        [WT_COMMIT, "-m", "locale", "a.txt"], cwd=repo, capture_output=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    want = "author Zoë €uro <agent@example.com> SECONDS +0000".encode()
    assert _idents(repo)[0] == want


# --- probes that hold --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tz",
    [
        "XXX-5:30:30",  # seconds in the offset, east
        "XXX+5:30:30",  # and west
        "XXX+0:00:30",  # less than a minute west: +0000
        "XXX+0:01:30",  # -0001
        "<+1345>-13:45",
        "XXX-24:59",
        "right/UTC",
        "right/America/New_York",  # leap seconds, but west: truncation agrees
        ":/etc/localtime",
        "Not/A_Zone",
    ],
)
def test_odd_time_zones(repo: Path, zone: pytest.MonkeyPatch, tz: str) -> None:
    if tz.startswith("right/") and not (ZONEINFO / tz).exists():
        pytest.skip(f"no {tz} time zone here")
    zone.setenv("TZ", tz)
    time.tzset()
    _same(repo)


@pytest.mark.parametrize(
    ("env", "config", "expect"),
    [
        # `git -c` (GIT_CONFIG_PARAMETERS) and GIT_CONFIG_COUNT, over the files
        (
            {"GIT_CONFIG_PARAMETERS": "'user.name'='Param N' 'author.email'=' <p@x>. '"},
            [],
            b"author Param N <p@x>",
        ),
        (
            {
                "GIT_CONFIG_COUNT": "2",
                "GIT_CONFIG_KEY_0": "User.Name",
                "GIT_CONFIG_VALUE_0": "Count N",
                "GIT_CONFIG_KEY_1": "user.name",
                "GIT_CONFIG_VALUE_1": "Count Last",
            },
            [],
            b"author Count Last <agent@example.com>",
        ),
        # the last value of a key wins; case of the key does not matter
        (
            {},
            [["--add", "USER.NAME", "First"], ["--add", "user.name", "Second"]],
            b"author Second <agent@example.com>",
        ),
        # quotes, escapes, tabs and CR in values: crud at the ends, kept inside
        ({}, [["user.name", '\t"Q\\"ote\tTab\r\n x"\t']], None),
        ({}, [["user.email", "  spaced @ mail  "]], None),
        # an empty author.name falls through to user.name
        ({}, [["author.name", ""]], b"author Test Agent <agent@example.com>"),
        # EMAIL is ignored once any *.email is set (here: the global user.email)
        ({"EMAIL": "env@x"}, [], b"author Test Agent <agent@example.com>"),
        # a very long name, and one with DEL and non-ASCII letters
        ({"GIT_AUTHOR_NAME": "N" * 70000}, [], None),
        ({"GIT_AUTHOR_NAME": "\x7fZoë\x7f"}, [], b"author \x7fZo\xc3\xab\x7f <agent@example.com>"),
        # user.useConfigOnly changes nothing once the identity is configured
        ({}, [["user.useConfigOnly", "true"]], b"author Test Agent <agent@example.com>"),
        # encodings git takes for UTF-8 (no header); any other left to git
        ({}, [["i18n.commitEncoding", "UTF8"]], None),
        ({}, [["i18n.commitEncoding", "uTf-8"]], None),
        ({}, [["i18n.commitEncoding", " utf-8"]], None),
        ({}, [["i18n.commitEncoding", ""]], None),
    ],
)
def test_identity_sources(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    config: list[list[str]],
    expect: bytes | None,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for args in config:
        git(repo, "config", *args)
    _same(repo)
    if expect is not None:
        ours = _ours(repo, b"m\n")
        assert ours is not None
        assert expect in ours


def test_includes_and_include_if(repo: Path, tmp_path: Path) -> None:
    inc = write(tmp_path, "inc", "[user]\n\tname = Included\n[author]\n\temail = inc@x\n")
    branch = write(tmp_path, "branch", "[committer]\n\tname = On Main\n")
    with open(repo / ".git" / "config", "a") as f:
        f.write(f'[includeIf "gitdir:{repo}/"]\n\tpath = {inc}\n')
        f.write(f'[includeIf "onbranch:main"]\n\tpath = {branch}\n')
    ours = _ours(repo, b"m\n")
    assert ours is not None
    assert b"author Included <inc@x>" in ours
    assert b"committer On Main <agent@example.com>" in ours
    _same(repo)


@pytest.mark.parametrize(
    "message",
    [b"", b"\n", b"no newline", b"crlf\r\n\r\nbody\r\n", b"tab\t\x0b\x0c\n", b"\xe2\x82\xac\n"],
)
def test_message_bytes_kept_as_commit_tree_keeps_them(repo: Path, message: bytes) -> None:
    _same(repo, message)


def test_sha256_repository(sha256_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", " <Ann> ")
    tree, parent = _tip(sha256_repo)
    body = _ours(sha256_repo, b"m\n")
    assert body is not None and body.startswith(f"tree {tree}\nparent {parent}\n".encode())
    _same(sha256_repo)
    assert git(sha256_repo, "fsck", "--strict", "--no-dangling") == ""


def test_a_key_without_a_value_set_again_later_writes_nothing(repo: Path) -> None:
    """PendingConfig forgets a valueless user.name that a later line sets, but git dies on it;
    wt-commit's `git cat-file` dies first, so nothing is committed."""
    tree, before = _tip(repo)
    config = repo / ".git" / "config"
    sane = config.read_text()
    config.write_text(sane + "[user]\n\tname\n[user]\n\tname = Later\n")
    refused = subprocess.run(
        ["git", "commit-tree", tree, "-p", before, "-m", "m"], cwd=repo, capture_output=True
    )
    assert refused.returncode != 0
    assert PendingConfig(repo).read().get("user.name") == "Later"
    write(repo, "a.txt", "a\n")
    proc = subprocess.run([WT_COMMIT, "-m", "x", "a.txt"], cwd=repo, capture_output=True)
    config.write_text(sane)
    assert proc.returncode != 0
    assert git(repo, "rev-parse", "HEAD").strip() == before


@pytest.mark.parametrize(
    ("config", "args"),
    [([["commit.gpgSign", "true"]], []), ([], ["--gpg-sign"]), ([], ["--gpg-key", "K"])],
)
def test_signing_asked_never_writes_unsigned(
    repo: Path, config: list[list[str]], args: list[str]
) -> None:
    """A failing gpg fails the commit: never an unsigned commit written here instead."""
    git(repo, "config", "gpg.program", "false")
    for kv in config:
        git(repo, "config", *kv)
    before = git(repo, "rev-parse", "HEAD").strip()
    write(repo, "a.txt", "a\n")
    proc = subprocess.run([WT_COMMIT, *args, "-m", "s", "a.txt"], cwd=repo, capture_output=True)
    assert proc.returncode != 0
    assert git(repo, "rev-parse", "HEAD").strip() == before


def test_no_gpg_sign_over_commit_gpgsign_is_written_here(repo: Path, tmp_path: Path) -> None:
    git(repo, "config", "commit.gpgSign", "true")
    git(repo, "config", "gpg.program", "false")
    write(repo, "a.txt", "a\n")
    trace = tmp_path / "trace"
    env = {**os.environ, "GIT_TRACE": os.fspath(trace)}
    proc = subprocess.run(
        [WT_COMMIT, "--no-gpg-sign", "-m", "s", "a.txt"], cwd=repo, capture_output=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "commit-tree" not in trace.read_text()
    assert b"gpgsig" not in _cat(repo, "HEAD")


def test_a_replayed_commit_keeps_gits_identity(repo: Path, tmp_path: Path) -> None:
    """The branch moves while wt-commit holds its built commit: the replay, written here
    too, carries the identity git would write and the same message."""
    marks = tmp_path / "marks"
    marks.mkdir()
    write(repo, "ours.txt", "ours\n")
    ident_env = {"GIT_AUTHOR_NAME": " ..Ann <a>, ", "GIT_COMMITTER_EMAIL": "<c@x>"}
    env = {
        **os.environ,
        **ident_env,
        "TZ": "UTC",
        "WT_FAULT_PAUSE": "built",
        "WT_FAULT_DIR": os.fspath(marks),
    }
    proc = subprocess.Popen(
        [WT_COMMIT, "-m", "ours\n\nbody", "ours.txt"],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        give_up = time.monotonic() + 60
        while not (marks / "built.reached").exists() and proc.poll() is None:
            assert time.monotonic() < give_up
            time.sleep(0.01)
        assert proc.poll() is None, proc.communicate()
        write(repo, "theirs.txt", "theirs\n")
        git(repo, "add", "theirs.txt")
        git(repo, "commit", "-qm", "theirs")
        theirs = git(repo, "rev-parse", "HEAD").strip()
    finally:
        (marks / "built.go").touch()
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    assert git(repo, "rev-parse", "HEAD^").strip() == theirs
    want = [
        b"author "
        + git(repo, "var", "GIT_AUTHOR_IDENT", env=ident_env).encode().rsplit(b" ", 2)[0]
        + b" SECONDS +0000",
        b"committer "
        + git(repo, "var", "GIT_COMMITTER_IDENT", env=ident_env).encode().rsplit(b" ", 2)[0]
        + b" SECONDS +0000",
    ]
    assert _idents(repo) == want
    assert _cat(repo, "HEAD").endswith(b"\n\nours\n\nbody\n")
    assert git(repo, "fsck", "--strict", "--no-dangling") == ""
