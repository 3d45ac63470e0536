"""A healthy fleet is quiet: a repository-local identity is no finding; a change to it after
the fleet began is, naming the command that was running when the config was written."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from conftest import git, git_wt, write, wt_commit


def alloc(repo: Path, agent: str) -> Path:
    res = git_wt(repo, "alloc", agent, "--owner-pid", "0")
    assert res.returncode == 0, res.stderr
    return Path(res.stdout.strip())


def doctor(repo: Path) -> tuple[int, list[dict[str, Any]]]:
    proc = git_wt(repo, "doctor", "--json")
    return proc.returncode, json.loads(proc.stdout)["findings"]


def test_a_repository_local_identity_is_not_a_finding(repo: Path) -> None:
    git(repo, "config", "user.name", "Team Bot")
    git(repo, "config", "user.email", "bot@example.com")
    alloc(repo, "ana")
    alloc(repo, "ben")
    rc, findings = doctor(repo)
    assert rc == 0 and findings == [], findings
    watch = git_wt(repo, "watch", "--once", "--json", "--no-journal")
    assert watch.returncode == 0, watch.stdout


def test_an_identity_changed_after_the_fleet_began_names_the_writer(repo: Path) -> None:
    git(repo, "config", "user.name", "Team Bot")
    tree = alloc(repo, "ana")
    alloc(repo, "ben")
    hook = Path(git(repo, "rev-parse", "--git-common-dir").strip())
    hook = (repo / hook if not hook.is_absolute() else hook) / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\ngit config user.name 'Mallory'\n")
    hook.chmod(0o755)
    write(tree, "a.txt", "a\n")
    assert wt_commit(tree, "-m", "a", "--agent", "ana", "--", "a.txt").returncode == 0
    hook.unlink()
    rc, findings = doctor(repo)
    assert rc == 7, findings
    (found,) = [f for f in findings if f["subject"] == "user.name"]
    assert found["before"] == "Team Bot" and found["now"] == "Mallory"
    assert found["writer"]["agent"] == "ana" and found["writer"]["relation"] == "during"
    assert found["writer"]["worktree"] == os.fspath(tree)
    assert "Team Bot" in found["undo"]
    watch = git_wt(repo, "watch", "--once", "--json", "--no-journal")
    assert watch.returncode == 7 and "Mallory" in watch.stdout


def test_a_corrupt_baseline_is_reported_not_ignored(repo: Path) -> None:
    alloc(repo, "ana")
    baseline = repo / ".git" / "wt" / "identity-baseline.json"
    assert baseline.exists()
    baseline.write_bytes(b'{"values": null, "recorded_at": 1}')
    rc, findings = doctor(repo)
    assert rc == 7
    assert [f["kind"] for f in findings] == ["corrupt_record"]
    assert findings[0]["subject"] == os.fspath(baseline)
