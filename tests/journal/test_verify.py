"""`git wt journal verify`: each way of breaking an append-only journal is caught, each valid
history passes, and a range that cannot be proven fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import git, git_wt

from ._history import EXEC, FILE, GITLINK, LINK, Files, History, linear

BASE: Files = {
    "README": (FILE, b"hi\n"),
    "journal/2026-01-01/a.md": (FILE, b"first line\nsecond line\n"),
    "journal/2026-01-01/b.md": (FILE, b"b says hello\n"),
}


def verify(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    proc = git_wt(repo, "journal", "verify", "--json", *args)
    return proc.returncode, json.loads(proc.stdout)


def kinds(payload: dict[str, Any]) -> set[tuple[str, str]]:
    return {(v["path"], v["kind"]) for v in payload.get("violations", [])}


def with_file(files: Files, path: str, data: bytes, mode: int = FILE) -> Files:
    return {**files, path: (mode, data)}


def without(files: Files, path: str) -> Files:
    return {k: v for k, v in files.items() if k != path}


A = "journal/2026-01-01/a.md"
B = "journal/2026-01-01/b.md"
OLD_A = BASE[A][1]

TAMPERS: list[tuple[str, Files, str, str]] = [
    ("flip a byte", with_file(BASE, A, b"First line\nsecond line\n"), A, "rewritten"),
    ("truncate", with_file(BASE, A, b"first line\n"), A, "truncated"),
    ("truncate to nothing", with_file(BASE, A, b""), A, "truncated"),
    ("insert in the middle", with_file(BASE, A, b"first line\nnew\nsecond line\n"), A, "rewritten"),
    ("prepend", with_file(BASE, A, b"x" + OLD_A), A, "rewritten"),
    ("LF to CRLF", with_file(BASE, A, OLD_A.replace(b"\n", b"\r\n")), A, "rewritten"),
    ("trailing space", with_file(BASE, A, b"first line \nsecond line\n"), A, "rewritten"),
    ("delete", without(BASE, A), A, "deleted"),
    ("rename", with_file(without(BASE, A), "journal/2026-01-01/c.md", OLD_A), A, "renamed"),
    ("chmod +x", with_file(BASE, A, OLD_A, EXEC), A, "mode_changed"),
    ("symlink swap", with_file(BASE, A, b"b.md", LINK), A, "type_changed"),
    ("file to directory", with_file(without(BASE, A), A + "/x.md", b"x\n"), A, "type_changed"),
    ("append a CR", with_file(BASE, A, OLD_A + b"more\r\n"), A, "carriage_return"),
    ("append a NUL", with_file(BASE, A, OLD_A + b"a\0b\n"), A, "nul_byte"),
    ("append bad UTF-8", with_file(BASE, A, OLD_A + b"\xff\n"), A, "not_utf8"),
    ("append a BOM", with_file(BASE, A, OLD_A + b"\xef\xbb\xbfx\n"), A, "bom"),
    (
        "new submodule",
        with_file(BASE, "journal/sub", b"1" * 40, GITLINK),
        "journal/sub",
        "submodule",
    ),
    ("entry to submodule", with_file(BASE, A, b"2" * 40, GITLINK), A, "type_changed"),
    ("new symlink", with_file(BASE, "journal/l.md", b"a", LINK), "journal/l.md", "symlink"),
    ("new executable", with_file(BASE, "journal/x.md", b"x\n", EXEC), "journal/x.md", "executable"),
    (
        "new file with BOM",
        with_file(BASE, "journal/n.md", b"\xef\xbb\xbfhi\n"),
        "journal/n.md",
        "bom",
    ),
    (
        "case twin",
        with_file(BASE, "journal/2026-01-01/A.md", b"x\n"),
        "journal/2026-01-01/A.md",
        "case_collision",
    ),
    (
        "Unicode twin",
        with_file(with_file(BASE, "journal/caf\u00e9.md", b"x\n"), "journal/cafe\u0301.md", b"y\n"),
        "journal/caf\u00e9.md",
        "case_collision",
    ),
    ("not a journal path", with_file(BASE, "JOURNAL/c.md", b"\xff\r\n", EXEC), "JOURNAL/c.md", ""),
]


@pytest.mark.parametrize(("name", "tampered", "path", "kind"), TAMPERS, ids=[t[0] for t in TAMPERS])
def test_each_tamper_is_caught(
    tmp_path: Path, name: str, tampered: Files, path: str, kind: str
) -> None:
    h = History(tmp_path / "r")
    before = with_file(BASE, A, b"first line\n")  # BASE is a valid append to this
    oids = linear(h, [before, BASE, tampered])
    rc, payload = verify(h.path)
    if not kind:  # JOURNAL/ is outside journal/**: not a journal path, nothing to say
        assert rc == 0, payload
        return
    assert rc == 6, payload
    assert (path, kind) in kinds(payload), payload
    assert all(v["commit"] == str(oids[-1]) for v in payload["violations"])
    assert all(v["hint"] for v in payload["violations"])
    # The same range, given explicitly, and the single last commit are caught too.
    rc, payload = verify(h.path, f"{oids[0]}..{oids[-1]}")
    assert rc == 6 and (path, kind) in kinds(payload)


def test_valid_history_passes(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    s1 = BASE
    s2 = with_file(s1, A, OLD_A + b"third\n")
    s3 = with_file(s2, "journal/2026-01-02/new.md", b"new entry\n")
    s4 = dict(s3)  # an empty commit
    s5 = with_file(s4, "README", b"changed, not journal\n")
    s6 = with_file(s5, B, s5[B][1] + b"no final newline")
    s7 = with_file(s6, B, s6[B][1] + b" -- continued\n")
    s8 = with_file(s7, "journal/caf\u00e9.md", "caf\u00e9 \u2615\n".encode())
    linear(h, [s1, s2, s3, s4, s5, s6, s7, s8])
    rc, payload = verify(h.path)
    assert rc == 0, payload
    assert payload["commits"] == 8 and payload["violations"] == []


def _forked(h: History) -> tuple[object, Files, Files]:
    root = h.commit(BASE, [])
    left = with_file(BASE, "journal/left.md", b"left\n")
    right = with_file(BASE, "journal/right.md", b"right\n")
    return root, left, right


def test_merge_of_disjoint_entries_passes(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    root, left, right = _forked(h)
    lc, rc_ = h.commit(left, [root]), h.commit(right, [root])
    merged = {**left, **right}
    h.set_ref("refs/heads/main", h.commit(merged, [lc, rc_]))
    rc, payload = verify(h.path)
    assert rc == 0, payload
    assert payload["merges"] == 1


def test_evil_merge_dropping_a_side_is_caught(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    root, left, right = _forked(h)
    lc, rc_ = h.commit(left, [root]), h.commit(right, [root])
    merge = h.commit(left, [lc, rc_])  # takes the left tree: right.md silently dropped
    h.set_ref("refs/heads/main", merge)
    rc, payload = verify(h.path)
    assert rc == 6
    assert ("journal/right.md", "deleted") in kinds(payload)
    assert {v["parent"] for v in payload["violations"]} == {str(rc_)}


def test_union_merge_of_two_appends_is_caught(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    root = h.commit(BASE, [])
    lc = h.commit(with_file(BASE, A, OLD_A + b"left\n"), [root])
    rc_ = h.commit(with_file(BASE, A, OLD_A + b"right\n"), [root])
    merge = h.commit(with_file(BASE, A, OLD_A + b"left\nright\n"), [lc, rc_])
    h.set_ref("refs/heads/main", merge)
    rc, payload = verify(h.path)
    assert rc == 6
    assert [(v["kind"], v["parent"]) for v in payload["violations"]] == [("rewritten", str(rc_))]


def test_root_commit_is_checked_against_the_empty_tree(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    linear(h, [with_file(BASE, "journal/x.md", b"x\n", EXEC)])
    rc, payload = verify(h.path)
    assert rc == 6 and ("journal/x.md", "executable") in kinds(payload)


def test_earlier_commit_of_a_push_is_caught(tmp_path: Path) -> None:
    """A bad commit followed by one that restores the file: the last commit alone looks fine."""
    h = History(tmp_path / "r")
    oids = linear(h, [BASE, with_file(BASE, A, b"rewritten\n"), BASE])
    rc, payload = verify(h.path, f"{oids[0]}..{oids[2]}")
    assert rc == 6
    assert {(v["commit"], v["kind"]) for v in payload["violations"]} == {
        (str(oids[1]), "rewritten"),
        (str(oids[2]), "rewritten"),
    }


def test_force_push_is_caught(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    oids = linear(h, [BASE, with_file(BASE, A, OLD_A + b"x\n")])
    other = h.commit(with_file(BASE, A, OLD_A + b"y\n"), [oids[0]])
    rc, payload = verify(h.path, f"{oids[1]}..{other}")
    assert rc == 6
    assert [v["kind"] for v in payload["violations"]] == ["not_ancestor"]


def test_missing_old_and_shallow_clone_fail(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    oids = linear(
        h, [BASE, with_file(BASE, A, OLD_A + b"x\n"), with_file(BASE, A, OLD_A + b"x\ny\n")]
    )
    rc, payload = verify(h.path, f"{'1' * 40}..{oids[-1]}")
    assert rc == 1 and payload["outcome"] == "error" and "cannot be found" in payload["error"]
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{h.path}", str(clone))
    rc, payload = verify(clone)
    assert rc == 1 and "shallow" in payload["error"]
    rc, payload = verify(clone, "HEAD~0..HEAD")
    assert rc == 1


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    linear(h, [BASE])
    assert verify(h.path, "a...b")[0] == 2
    assert verify(h.path, "..HEAD")[0] == 2
    assert verify(h.path, "no-such-rev")[0] == 2
    assert git_wt(h.path, "journal", "verify", "--bogus").returncode == 2


def test_config_paths_and_name_pattern(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    conf = (
        b"[journal]\n\tpath = notes/*.md\n\tpath = log\n"
        b"\tnamePattern = ^(notes/[a-z]+[.]md|log/.*)$\n"
    )
    s1: Files = {
        ".wtjournal": (FILE, conf),
        "notes/a.md": (FILE, b"a\n"),
        "journal/x": (FILE, b"x\n"),
    }
    s2 = with_file(without(s1, "journal/x"), "notes/a.md", b"a\nb\n")  # journal/ is not journal now
    s3 = with_file(s2, "notes/Bad_Name.md", b"x\n")
    s4 = with_file(s3, "log/deep/er.txt", b"x\n")
    s5 = with_file(s4, "log/deep/er.txt", b"changed\n")
    oids = linear(h, [s1, s2, s3, s4, s5])
    rc, payload = verify(h.path)
    assert rc == 6
    assert kinds(payload) == {("notes/Bad_Name.md", "bad_name"), ("log/deep/er.txt", "rewritten")}
    assert verify(h.path, f"{oids[0]}..{oids[1]}")[0] == 0


def test_case_twin_directory_is_caught(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    s1 = with_file(BASE, "journal/Notes/x.md", b"x\n")
    s2 = with_file(s1, "journal/notes/y.md", b"y\n")
    oids = linear(h, [s1, s2])
    rc, payload = verify(h.path)
    assert rc == 6 and kinds(payload) == {("journal/notes", "case_collision")}
    rc, payload = verify(h.path, f"{oids[0]}..{oids[1]}")  # the twin predates the range
    assert rc == 6 and kinds(payload) == {("journal/notes", "case_collision")}
