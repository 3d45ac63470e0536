"""watch and doctor in a SHA-256 repository: the journal source that pygit2 cannot read is
reported (exit 7), never a silent all-clear; everything else is checked."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import git_wt


def test_watch_once_reports_what_it_could_not_check(sha256_repo: Path) -> None:
    assert git_wt(sha256_repo, "alloc", "a1", "--owner-pid", "0").returncode == 0
    quiet = git_wt(sha256_repo, "watch", "--once", "--json", "--no-journal")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert git_wt(sha256_repo, "doctor", "--json").returncode == 0
    full = git_wt(sha256_repo, "watch", "--once", "--json")
    out = json.loads(full.stdout)
    if out["errors"]:
        assert full.returncode == 7 and "sha256" in out["errors"][0]
    else:
        assert full.returncode == 0
