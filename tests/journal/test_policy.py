"""The journal's rules cannot be loosened from below: a commit that narrows `.wtjournal` is
`policy_loosened` in wt-commit, `journal check`, `journal verify` (whole and ranges) and the
pre-push hook, unless a person accepts it (`--accept-policy-change`, recorded)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_WT, git, git_wt, head, write, wt_commit

ENTRY = "journal/2026-01-01/a.md"
WIDE = "[journal]\n\tpath = journal/**\n\tpath = notes/**\n\tprotect = ma*\n\tprotect = rel\n"
NOTHING = "[journal]\n\tpath = nothing-here/**\n"


@pytest.fixture
def jrepo(repo: Path) -> Path:
    write(repo, ENTRY, "first\n")
    git(repo, "add", ENTRY)
    git(repo, "commit", "-qm", "journal")
    return repo


def verify(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    proc = git_wt(repo, "journal", "verify", "--json", *args)
    return proc.returncode, json.loads(proc.stdout)


def kinds(payload: dict[str, Any]) -> set[str]:
    return {v["kind"] for v in payload.get("violations", [])}


def loosen_then_rewrite(repo: Path) -> tuple[str, str, str]:
    """The attack: C1 switches the rules off (committed without our tools), C2 rewrites an
    entry. Returns (base, C1, C2)."""
    base = head(repo)
    write(repo, ".wtjournal", NOTHING)
    git(repo, "add", ".wtjournal")
    git(repo, "commit", "-qm", "protect nothing")
    c1 = head(repo)
    write(repo, ENTRY, "rewritten\n")
    git(repo, "add", ENTRY)
    git(repo, "commit", "-qm", "rewrite")
    return base, c1, head(repo)


def test_wt_commit_and_check_refuse_a_narrowing(jrepo: Path) -> None:
    write(jrepo, ".wtjournal", NOTHING)
    proc = wt_commit(jrepo, "--json", "-m", "loosen", "--", ".wtjournal")
    assert proc.returncode == 6, proc.stderr
    assert "policy_loosened" in proc.stdout
    git(jrepo, "add", ".wtjournal")
    check = git_wt(jrepo, "journal", "check", "--json")
    assert check.returncode == 6 and "policy_loosened" in check.stdout


def test_widening_is_allowed(jrepo: Path) -> None:
    write(jrepo, ".wtjournal", WIDE)
    assert wt_commit(jrepo, "-m", "widen", "--", ".wtjournal").returncode == 0
    assert verify(jrepo)[0] == 0


@pytest.mark.parametrize(
    ("after", "why"),
    [
        ("[journal]\n\tpath = journal/**\n\tpath = notes/**\n\tprotect = ma*\n", "'rel'"),
        ("[journal]\n\tpath = journal/**\n\tprotect = ma*\n\tprotect = rel\n", "notes/**"),
        (None, "notes/**"),  # the file removed: the defaults protect less
    ],
)
def test_narrowing_an_existing_policy_is_a_violation(
    jrepo: Path, after: str | None, why: str
) -> None:
    write(jrepo, ".wtjournal", WIDE)
    git(jrepo, "add", ".wtjournal")
    git(jrepo, "commit", "-qm", "wide")
    if after is None:
        git(jrepo, "rm", "-q", ".wtjournal")
        proc = wt_commit(jrepo, "--json", "-m", "narrow", "--", ".wtjournal")
    else:
        write(jrepo, ".wtjournal", after)
        proc = wt_commit(jrepo, "--json", "-m", "narrow", "--", ".wtjournal")
    assert proc.returncode == 6, proc.stderr
    assert "policy_loosened" in proc.stdout and why in proc.stdout


def test_verify_full_and_range_catch_the_loosening_commit(jrepo: Path) -> None:
    base, c1, c2 = loosen_then_rewrite(jrepo)
    for args in [(), (f"{base}..{c2}",)]:
        rc, payload = verify(jrepo, *args)
        assert rc == 6, payload
        found = [v for v in payload["violations"] if v["kind"] == "policy_loosened"]
        assert found and all(v["commit"] == c1 for v in found)


def test_a_person_accepts_the_change_explicitly_and_it_is_recorded(jrepo: Path) -> None:
    base, c1, _c2 = loosen_then_rewrite(jrepo)
    rc, payload = verify(jrepo, "--agent", "ops", "--accept-policy-change", c1[:10])
    assert rc == 0, payload
    assert {v["commit"] for v in payload["accepted_policy_changes"]} == {c1}
    log = git_wt(jrepo, "log", "--json", "--action", "journal_policy_change_accepted")
    events = json.loads(log.stdout)["events"]
    assert events and events[0]["commit"] == c1 and events[0]["agent"] == "ops"
    # accepting some other commit does not accept this one
    assert verify(jrepo, "--accept-policy-change", base)[0] == 6
    assert verify(jrepo, "--accept-policy-change", "no-such-commit")[0] == 2


def test_pre_push_refuses_unless_accepted(jrepo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(jrepo, "remote", "add", "origin", str(remote))
    git(jrepo, "push", "-q", "origin", "HEAD:refs/heads/main")
    base, c1, _c2 = loosen_then_rewrite(jrepo)
    # The push is checked by the remote's rules: the rewrite in c2 stays refused even when
    # the loosening is accepted, so push the loosening alone.
    stdin = f"refs/heads/main {c1} refs/heads/main {base}\n"

    def pre_push(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GIT_WT, "journal", "pre-push", "--json", "origin"],
            cwd=jrepo, input=stdin, capture_output=True, text=True, env={**os.environ, **env},
        )  # fmt: skip

    refused = pre_push({})
    assert refused.returncode == 6 and "policy_loosened" in refused.stdout
    accepted = pre_push({"WT_ACCEPT_POLICY_CHANGE": c1})
    assert accepted.returncode == 0, accepted.stderr
    assert c1[:12] in accepted.stderr


@pytest.mark.parametrize("kind", ["directory", "garbage"])
def test_a_committed_config_that_cannot_be_read_is_refused_never_the_defaults(
    jrepo: Path, kind: str
) -> None:
    if kind == "directory":
        write(jrepo, ".wtjournal/x", "[journal]\n")
    else:
        write(jrepo, ".wtjournal", "[journal\n")
    git(jrepo, "add", ".wtjournal")
    git(jrepo, "commit", "-qm", "bad config")
    rc, payload = verify(jrepo)
    assert rc == 2 and ".wtjournal" in payload["error"] and payload["fix"]
    write(jrepo, "x.txt", "x\n")
    git(jrepo, "add", "x.txt")
    proc = git_wt(jrepo, "journal", "check", "--json")
    assert proc.returncode == 2 and "corrupt" in proc.stdout
    watch = git_wt(jrepo, "watch", "--once", "--json")
    assert watch.returncode == 7, watch.stdout + watch.stderr
    assert "corrupt_record" in watch.stdout and ".wtjournal" in watch.stdout


def test_a_merge_is_judged_against_every_parent(jrepo: Path) -> None:
    """Taking the other side's configuration is that side's change: only the commit that
    narrowed it is reported, not the merge that brought it in."""
    git(jrepo, "switch", "-q", "-c", "side")
    write(jrepo, ".wtjournal", NOTHING)
    git(jrepo, "add", ".wtjournal")
    git(jrepo, "commit", "-qm", "narrow on a side branch")
    side = head(jrepo)
    git(jrepo, "switch", "-q", "main")
    write(jrepo, "other.txt", "x\n")
    git(jrepo, "add", "other.txt")
    git(jrepo, "commit", "-qm", "main moves on")
    git(jrepo, "merge", "-q", "--no-edit", "side")
    rc, payload = verify(jrepo)
    assert rc == 6
    found = [v for v in payload["violations"] if v["kind"] == "policy_loosened"]
    assert {v["commit"] for v in found} == {side}
    assert verify(jrepo, "--accept-policy-change", side)[0] == 0
