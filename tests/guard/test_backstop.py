"""The reference-transaction backstop against real git: what --no-verify cannot skip."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import git, git_wt, head, status, write, wt_commit

from worktree_tools.core.permit import start_token

AGENT = {"WT_AGENT": "bot"}


def install(repo: Path) -> None:
    res = git_wt(repo, "hooks", "install")
    assert res.returncode == 0, res.stderr


def events(repo: Path) -> list[dict[str, Any]]:
    res = git_wt(repo, "log", "--json")
    assert res.returncode == 0, res.stderr
    found: list[dict[str, Any]] = json.loads(res.stdout)["events"]
    return found


def run_git(repo: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    import subprocess

    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def test_agent_commit_all_no_verify_in_main_worktree_is_refused(repo: Path) -> None:
    install(repo)
    write(repo, "src/app.py", "print('v2')\n")
    write(repo, "src/new.py", "x\n")
    git(repo, "add", "src/new.py")
    before_head, before_status = head(repo), status(repo)
    index = (repo / ".git/index").read_bytes()
    res = run_git(repo, "commit", "--no-verify", "-am", "x", env=AGENT)
    assert res.returncode != 0
    assert head(repo) == before_head  # HEAD did not move
    assert status(repo) == before_status and (repo / ".git/index").read_bytes() == index
    assert "wt-commit -m x -- src/app.py src/new.py" in res.stderr
    refused = [e for e in events(repo) if e.get("action") == "guard_refused"]
    assert refused and refused[-1]["agent"] == "bot" and refused[-1]["exit_code"] == 6


@pytest.mark.parametrize(
    "marker", [{"CLAUDECODE": "1"}, {"GEMINI_CLI": "1"}, {"CODEX_SANDBOX": "x"}]
)
def test_harness_marker_alone_makes_an_agent(repo: Path, marker: dict[str, str]) -> None:
    install(repo)
    write(repo, "README", "changed\n")
    git(repo, "add", "README")
    before = head(repo)
    res = run_git(repo, "commit", "-m", "subject line", "-m", "body", env=marker)
    assert res.returncode != 0 and head(repo) == before
    assert "wt-commit -m 'subject line' -m body -- README" in res.stderr


@pytest.mark.parametrize("args", [["stash"], ["stash", "-u"], ["stash", "push", "-m", "m"]])
def test_agent_stash_is_refused_and_the_change_stays(repo: Path, args: list[str]) -> None:
    install(repo)
    write(repo, "src/app.py", "print('mine')\n")
    write(repo, "untracked.txt", "u\n")
    res = run_git(repo, *args, env=AGENT)
    assert res.returncode != 0
    assert (repo / "src/app.py").read_text() == "print('mine')\n"
    assert (repo / "untracked.txt").read_text() == "u\n"
    assert git(repo, "rev-parse", "-q", "--verify", "refs/stash", check=False) == ""
    assert "the stash is one stack shared by every worktree" in res.stderr
    assert "wt-commit -m wip -- src/app.py" in res.stderr


def test_agent_reset_hard_cannot_move_the_shared_branch(repo: Path) -> None:
    install(repo)
    write(repo, "README", "two\n")
    git(repo, "commit", "-qam", "second")  # a person's commit
    before = head(repo)
    res = run_git(repo, "reset", "--hard", "HEAD~1", env=AGENT)
    assert res.returncode != 0
    assert head(repo) == before  # git resets the files before its ref update; the branch stays
    assert "may not move branch main" in res.stderr


def test_person_is_never_refused_and_their_branch_moves_are_logged(repo: Path) -> None:
    install(repo)
    write(repo, "README", "person\n")
    res = run_git(repo, "commit", "--no-verify", "-qam", "by hand")
    assert res.returncode == 0, res.stderr
    assert run_git(repo, "stash", "list").returncode == 0
    write(repo, "README", "again\n")
    assert run_git(repo, "stash").returncode == 0  # a person may stash
    moved = [e for e in events(repo) if e.get("action") == "branch_moved"]
    assert moved[-1]["branch"] == "main" and moved[-1]["commit"] == head(repo)
    assert moved[-1]["by"] == "person" and moved[-1]["command"][1:3] == ["commit", "--no-verify"]


def test_wt_commit_passes_without_an_environment_variable(repo: Path) -> None:
    install(repo)
    write(repo, "src/app.py", "print('v3')\n")
    res = wt_commit(repo, "-m", "agent", "--", "src/app.py", env=AGENT)
    assert res.returncode == 0, res.stderr
    log = events(repo)
    assert not [e for e in log if e.get("action") in ("guard_refused", "branch_moved")]
    assert not list((repo / ".git/wt/guard").glob("pass-*"))  # the pass is gone afterwards


def test_a_pass_counts_only_for_its_live_pid_and_start_time(repo: Path) -> None:
    """This test process is git's parent: a pass in its name lets the move through only with
    its real start time, so a stale or forged pass (reused pid) does not."""
    install(repo)
    passes = repo / ".git/wt/guard"
    passes.mkdir(parents=True)
    me = os.getpid()
    write(repo, "README", "x\n")
    git(repo, "add", "README")
    (passes / f"pass-{me}").write_text(f"{me} 12345\n")
    assert run_git(repo, "commit", "-qm", "forged", env=AGENT).returncode != 0
    (passes / f"pass-{me}").write_text(f"{me} {start_token(me)}\n")
    res = run_git(repo, "commit", "-qm", "passed", env=AGENT)
    assert res.returncode == 0, res.stderr


def test_agent_owns_its_worktree_but_not_another_agents_branch(repo: Path) -> None:
    install(repo)
    mine = Path(git_wt(repo, "alloc", "bot", "--owner-pid", "0").stdout.strip())
    theirs = Path(git_wt(repo, "alloc", "other", "--owner-pid", "0").stdout.strip())
    their_branch = git(theirs, "branch", "--show-current").strip()
    write(mine, "f.txt", "f\n")
    git(mine, "add", "f.txt")
    res = run_git(mine, "commit", "-qm", "own worktree", env=AGENT)
    assert res.returncode == 0, res.stderr  # allowed in its own worktree, and logged
    moved = [e for e in events(repo) if e.get("action") == "branch_moved"]
    assert moved[-1]["by"] == "agent" and moved[-1]["agent"] == "bot"
    before = head(theirs)
    res = run_git(mine, "update-ref", f"refs/heads/{their_branch}", "HEAD", env=AGENT)
    assert res.returncode != 0 and head(theirs) == before
    assert "work in your own worktree" in res.stderr
    write(mine, "f.txt", "g\n")  # the stash is shared even from the agent's own worktree
    assert run_git(mine, "stash", env=AGENT).returncode != 0


def test_warn_and_off(repo: Path) -> None:
    install(repo)
    git(repo, "config", "wt.guard", "warn")
    write(repo, "README", "w\n")
    res = run_git(repo, "commit", "-qam", "warned", env=AGENT)
    assert res.returncode == 0 and "wt guard: warning:" in res.stderr
    git(repo, "config", "wt.guard", "off")
    write(repo, "README", "o\n")
    res = run_git(repo, "commit", "-qam", "off", env=AGENT)
    assert res.returncode == 0 and "wt guard" not in res.stderr
    git(repo, "config", "wt.guard", "bogus")
    write(repo, "README", "b\n")
    res = run_git(repo, "commit", "-qam", "bogus", env=AGENT)
    assert res.returncode != 0 and "not off|warn|refuse" in res.stderr


def test_nothing_to_decide_starts_no_python(repo: Path, tmp_path: Path) -> None:
    """The shell fast path: fetches, tags and remote-tracking refs never reach git-wt."""
    install(repo)
    calls = tmp_path / "calls"
    recorder = write(tmp_path, "bin/rec", f'#!/bin/sh\necho "$@" >> {calls}\ncat >/dev/null\n')
    recorder.chmod(0o755)
    env = {**AGENT, "WT_GIT_WT": os.fspath(recorder)}
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", os.fspath(repo), os.fspath(other))
    git(other, "tag", "t1")
    for i in range(5):
        git(other, "branch", f"b{i}")
    assert (
        run_git(
            repo, "fetch", "-q", os.fspath(other), "+refs/*:refs/remotes/o/*", env=env
        ).returncode
        == 0
    )
    assert run_git(repo, "update-ref", "refs/tags/x", "HEAD", env=env).returncode == 0
    same = run_git(repo, "update-ref", "refs/heads/main", "HEAD", "HEAD", env=env)  # no move
    assert same.returncode == 0
    assert not calls.exists() or "prepared" not in calls.read_text()
    # Without an old value git reports old as zero: Python starts, and lets it through.
    assert run_git(repo, "update-ref", "refs/heads/main", "HEAD", env=AGENT).returncode == 0
    write(repo, "README", "z\n")
    run_git(repo, "commit", "-qam", "decided", env=env)
    assert "guard hook prepared" in calls.read_text()


def test_chained_reference_transaction_hook_still_runs(repo: Path, tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    mine = write(
        repo / ".git/hooks",
        "reference-transaction",
        f'#!/bin/sh\necho "$1" >> {seen}\ncat >> {seen}\n',
    )
    mine.chmod(0o755)
    install(repo)
    assert (repo / ".git/hooks/reference-transaction.wt-chained").exists()
    git(repo, "update-ref", "refs/tags/v1", "HEAD")
    text = seen.read_text()
    assert "prepared\n" in text and "committed\n" in text and "refs/tags/v1" in text
    assert git_wt(repo, "hooks", "uninstall").returncode == 0
    assert "echo" in (repo / ".git/hooks/reference-transaction").read_text()


def test_no_python_on_path_for_the_shim() -> None:
    from worktree_tools.hooks.shimtext import shim_text

    text = shim_text("reference-transaction")
    assert "python" not in text and sys.prefix not in text and ".venv" not in text
    shipped = Path(__file__).resolve().parents[2] / "hooks" / "reference-transaction"
    assert shipped.read_text() == text and os.access(shipped, os.X_OK)


def test_toolkit_moves_pass_and_are_not_logged_as_plain_git(repo: Path) -> None:
    install(repo)
    res = git_wt(repo, "alloc", "bot", "--owner-pid", "0", env=AGENT)
    assert res.returncode == 0, res.stderr
    tree = Path(res.stdout.strip())
    write(tree, "f.txt", "f\n")
    assert wt_commit(tree, "-m", "f", "--", "f.txt", env=AGENT).returncode == 0
    actions = [e.get("action") for e in events(repo)]
    assert "branch_moved" not in actions and "guard_refused" not in actions


def test_marker_only_agent_owns_the_allocated_worktree_it_runs_in(repo: Path) -> None:
    install(repo)
    tree = Path(git_wt(repo, "alloc", "bot", "--owner-pid", "0").stdout.strip())
    write(tree, "g.txt", "g\n")
    git(tree, "add", "g.txt")
    res = run_git(tree, "commit", "-qm", "claude in its worktree", env={"CLAUDECODE": "1"})
    assert res.returncode == 0, res.stderr
    write(repo, "README", "main\n")
    res = run_git(repo, "commit", "-qam", "claude in main", env={"CLAUDECODE": "1"})
    assert res.returncode != 0 and "an agent (claude session" in res.stderr


def test_symref_lines_of_newer_git_are_not_branch_moves(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git 2.46+ also reports symbolic-ref updates (`ref:OLD ref:NEW HEAD`): an agent's
    `git checkout other` must not be aborted by a line the policy cannot parse."""
    from worktree_tools.core.repo import discover
    from worktree_tools.guard import policy

    monkeypatch.setenv("WT_AGENT", "bot")
    line = "ref:refs/heads/main ref:refs/heads/other HEAD"
    assert policy.run(discover(repo), "prepared", [line], os.getpid()) == 0
