""".wtconfig setup and teardown: run only once approved with `git wt trust` (and asked again when
the file changes), setup_failed leaves the worktree allocated, teardown runs at release as done
and before gc removes a worktree, after its work is saved, and never stops gc."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import git, git_wt, write
from worktrees.helpers import alloc, kill, rescues, spawn_owner, wt_json

SETUP = (
    "[env]\n"
    '\tsetup = echo "$WT_AGENT $WT_PORT_WEB $WT_WORKTREE" >> "$WT_MAIN_WORKTREE/../setup.ran"\n'
    '\tteardown = echo "$WT_AGENT $WT_PORT_WEB" >> "$WT_MAIN_WORKTREE/../teardown.ran"\n'
)


def _commit_config(repo: Path, text: str) -> None:
    write(repo, ".wtconfig", text)
    git(repo, "add", ".wtconfig")
    git(repo, "commit", "-qm", "wtconfig")


def _ran(repo: Path, what: str) -> list[str]:
    path = repo.parent / f"{what}.ran"
    return path.read_text().splitlines() if path.exists() else []


def test_unapproved_setup_is_reported_not_run_until_trusted(repo: Path) -> None:
    _commit_config(repo, SETUP)
    res = git_wt(repo, "alloc", "a1", "--owner-pid", "0", "--slot", "web", "--json")
    assert res.returncode == 0
    data = json.loads(res.stdout)
    assert data["outcome"] == "ok" and data["env"]["setup"]["status"] == "untrusted"
    assert data["env"]["setup"]["fix"].endswith("wt trust")
    assert "were not run: untrusted" in res.stderr and _ran(repo, "setup") == []
    refused = git_wt(repo, "trust", "--json")  # no terminal: a person must say --yes
    assert (
        refused.returncode == 2 and "a person must approve" in json.loads(refused.stdout)["error"]
    )
    assert _ran(repo, "setup") == []
    approved = wt_json(repo, "trust", "--yes")
    assert approved["trust"] == "trusted" and approved["outcome"] == "ok"
    again = wt_json(repo, "alloc", "a1", "--owner-pid", "0")  # retries the setup now
    assert again["env"]["setup"]["status"] == "ok"
    port = again["env"]["slots"]["web"]
    assert _ran(repo, "setup") == [f"a1 {port} {again['worktree']}"]
    wt_json(repo, "alloc", "a1", "--owner-pid", "0")
    assert len(_ran(repo, "setup")) == 1  # done once


def test_a_changed_wtconfig_is_asked_again(repo: Path) -> None:
    _commit_config(repo, SETUP)
    wt_json(repo, "trust", "--yes")
    assert wt_json(repo, "alloc", "a1", "--owner-pid", "0")["env"]["setup"]["status"] == "ok"
    _commit_config(repo, SETUP + "\tsetup = touch /tmp/should-not-run-$WT_AGENT\n")
    data = wt_json(repo, "alloc", "a2", "--owner-pid", "0")
    assert data["env"]["setup"]["status"] == "untrusted"
    assert data["env"]["setup"]["trust"] == "changed"
    assert [line.split()[0] for line in _ran(repo, "setup")] == ["a1"]
    assert not os.path.exists("/tmp/should-not-run-a2")
    wt_json(repo, "trust", "--revoke")
    assert wt_json(repo, "alloc", "a3", "--owner-pid", "0")["env"]["setup"]["trust"] == "untrusted"


def test_failed_setup_leaves_the_worktree_allocated(repo: Path) -> None:
    _commit_config(repo, '[env]\n\tsetup = "echo installing; echo broken >&2; exit 3"\n')
    wt_json(repo, "trust", "--yes")
    res = git_wt(repo, "alloc", "a1", "--owner-pid", "0", "--json")
    assert res.returncode == 5
    data = json.loads(res.stdout)
    assert data["outcome"] == "setup_failed" and data["exit_code"] == 5
    assert data["env"]["setup"]["command_exit_code"] == 3
    assert "broken" in data["env"]["setup"]["output_tail"]
    assert "exited with 3" in data["error"] and data["fix"]
    tree = Path(data["worktree"])
    assert (tree / "README").exists() and "broken" in (tree / ".wt" / "setup.log").read_text()
    assert wt_json(repo, "status", "a1")["worktrees"][0]["lease"] == "active"
    text = git_wt(repo, "alloc", "a1", "--owner-pid", "0")  # retried, fails again
    assert text.returncode == 5 and text.stdout.strip() == str(tree)
    assert "setup_failed" in text.stderr


def test_teardown_runs_once_at_release_as_done(repo: Path) -> None:
    _commit_config(repo, SETUP)
    wt_json(repo, "trust", "--yes")
    data = wt_json(repo, "alloc", "a1", "--owner-pid", "0", "--slot", "web")
    released = wt_json(repo, "release", "a1", "--state", "done")
    assert released["teardown"]["status"] == "ok"
    assert _ran(repo, "teardown") == [f"a1 {data['env']['slots']['web']}"]
    removed = wt_json(repo, "gc")["worktrees"]
    assert removed[0]["action"] == "removed"
    assert len(_ran(repo, "teardown")) == 1  # not again before removal


def test_teardown_runs_before_gc_removes_after_the_work_is_saved(repo: Path) -> None:
    marker = repo.parent / "teardown.saw"
    _commit_config(
        repo,
        '[env]\n\tteardown = "git -C $WT_MAIN_WORKTREE for-each-ref refs/wt/rescue '
        f'> {marker}; exit 9"\n',
    )
    wt_json(repo, "trust", "--yes")
    owner = spawn_owner()
    tree = alloc(repo, "a1", owner=owner.pid)
    write(tree, "work.txt", "unsaved work\n")
    kill(owner)
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    item = json.loads(res.stdout)["worktrees"][0]
    assert item["action"] == "removed" and item["rescue"]
    assert any("teardown failed" in n for n in item["notes"])
    assert "refs/wt/rescue/a1/" in marker.read_text()  # saved before teardown ran
    assert not tree.exists() and len(rescues(repo)) == 1


def test_unapproved_teardown_is_reported_by_gc_not_run(repo: Path) -> None:
    _commit_config(repo, SETUP)
    alloc(repo, "a1")
    wt_json(repo, "release", "a1", "--state", "done")
    item = wt_json(repo, "gc")["worktrees"][0]
    assert item["action"] == "removed"
    assert any("not run: untrusted" in n for n in item["notes"])
    assert _ran(repo, "teardown") == []


def test_a_corrupt_trust_store_runs_nothing_and_is_not_overwritten(repo: Path) -> None:
    _commit_config(repo, SETUP)
    store = Path(os.environ["XDG_CONFIG_HOME"]) / "git-wt" / "trust.json"
    store.parent.mkdir(parents=True)
    store.write_text("{not json")
    res = git_wt(repo, "alloc", "a1", "--owner-pid", "0", "--json")
    assert res.returncode == 5 and "trust store" in res.stdout
    assert _ran(repo, "setup") == []
    assert git_wt(repo, "trust", "--yes").returncode == 2
    assert store.read_text() == "{not json"


def test_alloc_killed_before_setup_runs_it_on_the_next_alloc(repo: Path) -> None:
    _commit_config(repo, SETUP)
    wt_json(repo, "trust", "--yes")
    res = git_wt(repo, "alloc", "a1", "--owner-pid", "0", env={"WT_FAULT": "wt-env-setup"})
    assert res.returncode == -9 and _ran(repo, "setup") == []
    assert wt_json(repo, "alloc", "a1", "--owner-pid", "0")["env"]["setup"]["status"] == "ok"
    assert len(_ran(repo, "setup")) == 1
