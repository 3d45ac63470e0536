"""Ownership records that cannot be read are reported with their path and a fix; alloc never
takes them as absent and never overwrites them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import git_wt

from .helpers import alloc, record_path


@pytest.mark.parametrize(
    "content",
    [b"null", b"[]", b'"x"', b"\xff\xfe", b'{"version": 1, "agent": "a1"', b""],
    ids=["null", "list", "string", "not-utf8", "truncated", "empty"],
)
def test_alloc_refuses_an_unreadable_record_and_leaves_it(repo: Path, content: bytes) -> None:
    alloc(repo, "a1")
    record = record_path(repo, "a1")
    record.write_bytes(content)
    res = git_wt(repo, "alloc", "a1", "--json")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    out = json.loads(res.stdout)
    assert str(record) in out["error"] and "corrupt" in out["error"] and "mv " in out["fix"]
    assert record.read_bytes() == content  # never overwritten
    listing = git_wt(repo, "list", "--json")
    assert "Traceback" not in listing.stderr and str(record) in listing.stdout + listing.stderr


@pytest.mark.parametrize(
    ("field", "value"),
    [("ttl", float("nan")), ("ttl", 1e400), ("ttl", -1), ("owner", None),
     ("state", 3), ("forced", "yes"), ("created", None)],
)  # fmt: skip
def test_alloc_refuses_a_record_with_a_bad_field(repo: Path, field: str, value: object) -> None:
    alloc(repo, "a1")
    record = record_path(repo, "a1")
    data = json.loads(record.read_text())
    data[field] = value
    text = json.dumps(data)
    record.write_text(text)
    res = git_wt(repo, "alloc", "a1", "--json")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "is corrupt" in json.loads(res.stdout)["error"]
    assert record.read_text() == text


@pytest.mark.parametrize("field", ["pid", "started"])
@pytest.mark.parametrize("value", ['"12"', "[1]", "NaN", "1e400", "-3"])
def test_owner_pid_of_the_wrong_type_is_corrupt(repo: Path, field: str, value: str) -> None:
    alloc(repo, "a1")
    record = record_path(repo, "a1")
    data = json.loads(record.read_text())
    data["owner"][field] = "@@"
    text = json.dumps(data).replace('"@@"', value)
    record.write_text(text)
    res = git_wt(repo, "alloc", "a1", "--json")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert record.read_text() == text


def test_a_record_whose_admin_dir_is_gone_is_corrupt_not_a_crash(repo: Path) -> None:
    alloc(repo, "a1")
    record = record_path(repo, "a1")
    data = json.loads(record.read_text())
    data["admin_dir"] = str(repo / ".git" / "worktrees" / "no-such")
    text = json.dumps(data)
    record.write_text(text)
    res = git_wt(repo, "alloc", "a1", "--json")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert "admin_dir" in json.loads(res.stdout)["error"]
    assert record.read_text() == text


def test_a_record_that_is_a_directory_is_corrupt(repo: Path) -> None:
    alloc(repo, "a1")
    record = record_path(repo, "a1")
    record.unlink()
    record.mkdir()
    res = git_wt(repo, "alloc", "a1", "--json")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert record.is_dir()
    shutil.rmtree(record)
