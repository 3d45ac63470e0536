"""Checkpoints: a verified state recorded so that a later rewrite is caught even when the
rewritten history is valid on its own (it never passed through CI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pygit2
from conftest import git, git_wt

from ._history import FILE, Files, History, linear

A = "journal/a.md"
REF = "refs/wt/journal-checkpoint"


def run(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    proc = git_wt(repo, "journal", *args, "--json")
    return proc.returncode, json.loads(proc.stdout)


def states() -> list[Files]:
    return [
        {A: (FILE, b"one\n")},
        {A: (FILE, b"one\ntwo\n"), "journal/b.md": (FILE, b"b\n")},
    ]


def test_checkpoint_records_sizes_digests_and_a_chain(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    oids = linear(h, states())
    rc, first = run(h.path, "checkpoint", "--agent", "ci")
    assert rc == 0, first
    assert first["verified_commit"] == str(oids[-1]) and first["files"] == 2
    assert git(h.path, "rev-parse", REF).strip() == first["ref_commit"]
    manifest = git(h.path, "show", f"{REF}:manifest")
    assert "8 " in manifest and '"journal/a.md"' in manifest
    events = git_wt(h.path, "log", "--json", "--action", "journal_checkpoint").stdout
    assert json.loads(events)["events"][-1]["commit"] == first["ref_commit"]
    more = h.commit({A: (FILE, b"one\ntwo\nthree\n"), "journal/b.md": (FILE, b"b\n")}, [oids[-1]])
    h.set_ref("refs/heads/main", more)
    rc, second = run(h.path, "checkpoint")
    assert rc == 0 and second["previous"] == first["ref_commit"]
    assert second["commits_verified"] == 1  # only what the previous checkpoint had not seen
    rc, payload = run(h.path, "verify")
    assert rc == 0 and payload["checkpoint"]["ref_commit"] == second["ref_commit"]


def test_a_rewritten_history_is_caught_by_the_checkpoint(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    linear(h, states())
    assert run(h.path, "checkpoint")[0] == 0
    # A fresh lineage, valid commit by commit, but "one" became "ONE": only the checkpoint knows.
    forged = linear(
        h, [{A: (FILE, b"ONE\n")}, {A: (FILE, b"ONE\ntwo\n"), "journal/b.md": (FILE, b"b\n")}]
    )
    rc, payload = run(h.path, "verify")
    assert rc == 6
    assert {(v["path"], v["kind"]) for v in payload["violations"]} == {(A, "checkpoint_mismatch")}
    assert run(h.path, "verify", "--no-checkpoint")[0] == 0
    assert run(h.path, "checkpoint")[0] == 6  # a bad state is never checkpointed
    assert str(forged[-1])


def test_an_edited_checkpoint_breaks_the_chain(tmp_path: Path) -> None:
    h = History(tmp_path / "r")
    linear(h, states())
    assert run(h.path, "checkpoint")[0] == 0
    repo = pygit2.Repository(str(h.path))
    cp = repo.references[REF].peel(pygit2.Commit)
    builder = repo.TreeBuilder()
    blob: Any = repo[cp.tree["manifest"].id]
    manifest = blob.data
    forged_manifest = manifest.replace(b"\n8 ", b"\n4 ")  # a.md "shrunk" to its first line
    assert forged_manifest != manifest
    builder.insert("manifest", repo.create_blob(forged_manifest), pygit2.enums.FileMode.BLOB)
    forged = repo.create_commit(
        None, cp.author, cp.committer, cp.message, builder.write(), cp.parent_ids
    )
    repo.references.create(REF, forged, force=True)
    rc, payload = run(h.path, "verify")
    assert rc == 6
    assert "(checkpoint)" in [v["path"] for v in payload["violations"]]
