"""The shim's guard: wt-commit and a plain `git commit` in one worktree each run their checks
exactly once and never overlap; an inherited or forged mark switches nothing off; a stale or
forged hook record gets no unrelated process killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import WT_COMMIT, git, git_wt, head, write, wt_commit
from hookmanagers import log_runs, project


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)


@pytest.mark.parametrize("manager", ["husky", "lefthook", "pre-commit"])
@pytest.mark.parametrize("first", ["plain", "wt-commit"])
def test_plain_commit_and_wt_commit_each_run_checks_once_never_overlapping(
    repo: Path, tmp_path: Path, manager: str, first: str
) -> None:
    project(repo, manager)
    assert git_wt(repo, "hooks", "install").returncode == 0
    log, flag = tmp_path / "log", tmp_path / "flag"
    env = {**os.environ, "HOOK_LOG": os.fspath(log), "HOOK_WAIT_FOR": os.fspath(flag)}
    write(repo, "person.js", "const person = 1;\n")
    write(repo, "agent.js", "const agent = 1;\n")
    git(repo, "add", "person.js")
    plain = ["git", "commit", "-qm", "person", "--", "person.js"]
    agent = [WT_COMMIT, "-m", "agent", "--", "agent.js"]
    one, two = (plain, agent) if first == "plain" else (agent, plain)
    p1 = subprocess.Popen(one, cwd=repo, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    _wait_for(Path(f"{flag}.waiting"), p1)  # the first commit's check is running now
    p2 = subprocess.Popen(two, cwd=repo, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    time.sleep(0.5)  # give the second a chance to (wrongly) start its check; not asserted on
    flag.touch()
    for p in (p1, p2):
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    runs = log_runs(log)
    assert [what for what, _ in runs] == ["start", "end", "start", "end"], runs
    assert runs[0][1] == runs[1][1] and runs[2][1] == runs[3][1]  # never interleaved
    assert set(git(repo, "log", "--format=%s", "-2").split()) == {"person", "agent"}


def test_an_inherited_mark_does_not_switch_off_the_lock_or_the_journal(repo: Path) -> None:
    assert git_wt(repo, "hooks", "install").returncode == 0
    write(repo, "journal/a.md", "first\n")
    git(repo, "add", "journal/a.md")
    git(repo, "commit", "-qm", "entry")
    write(repo, "journal/a.md", "rewritten\n")
    git(repo, "add", "journal/a.md")
    for mark in ("1", f"{os.getpid()}:forged:{repo / '.git'}"):
        proc = subprocess.run(
            ["git", "commit", "-qm", "edit"], cwd=repo, capture_output=True, text=True,
            env={**os.environ, "WT_HOOK_LOCK_HELD": mark},
        )  # fmt: skip
        assert proc.returncode != 0 and "journal" in proc.stderr, (mark, proc.stderr)
    # A live wt-commit's real record, with the mark copied by an outsider: still refused
    # (the nonce is the record's, but the pid named is not the writer).
    (repo / ".git/wt-hooks.json").write_text(json.dumps({
        "pid": 1, "pgid": None, "hook": "pre-commit", "cwd": os.fspath(repo),
        "started": time.time(), "nonce": "n0nce"}))  # fmt: skip
    proc = subprocess.run(
        ["git", "commit", "-qm", "edit"], cwd=repo, capture_output=True, text=True,
        env={**os.environ, "WT_HOOK_LOCK_HELD": f"{os.getpid()}:n0nce:{repo / '.git'}"},
    )  # fmt: skip
    assert proc.returncode != 0 and "journal" in proc.stderr


def test_an_inherited_mark_still_waits_for_the_hook_lock(repo: Path, tmp_path: Path) -> None:
    """A plain commit whose environment carries a mark copied from a wt-commit's hook still
    waits for that wt-commit's hook to finish."""
    flag, log = tmp_path / "flag", tmp_path / "log"
    hook = write(
        repo,
        ".git/hooks/pre-commit",
        f"""#!/bin/sh
echo "start $$ $WT_HOOK_LOCK_HELD" >> {log}
echo "$WT_HOOK_LOCK_HELD" > {tmp_path}/mark
if [ -n "$AGENT" ]; then touch {flag}.waiting; while [ ! -e {flag} ]; do sleep 0.02; done; fi
echo "end $$" >> {log}
""",
    )
    hook.chmod(0o755)
    assert git_wt(repo, "hooks", "install").returncode == 0
    write(repo, "a.txt", "a\n")
    agent = subprocess.Popen([WT_COMMIT, "-m", "a", "--", "a.txt"], cwd=repo, text=True,
                             env={**os.environ, "AGENT": "1"}, stderr=subprocess.PIPE)  # fmt: skip
    _wait_for(Path(f"{flag}.waiting"), agent)
    mark = (tmp_path / "mark").read_text().strip()
    assert mark.count(":") >= 2  # pid:nonce:gitdir, proven by the live wt-commit's record
    write(repo, "b.txt", "b\n")
    git(repo, "add", "b.txt")
    person = subprocess.Popen(["git", "commit", "-qm", "b", "--", "b.txt"], cwd=repo, text=True,
                              env={**os.environ, "WT_HOOK_LOCK_HELD": mark},
                              stderr=subprocess.PIPE)  # fmt: skip
    time.sleep(0.5)  # room for the (wrong) overlap; the assertion is on the order in the log
    flag.touch()
    assert agent.wait(60) == 0 and person.wait(60) == 0, person.communicate()
    runs = [ln.split()[0] for ln in log.read_text().splitlines()]
    assert runs == ["start", "end", "start", "end"], log.read_text()


def test_a_forged_hook_record_gets_no_unrelated_process_killed(repo: Path) -> None:
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        dead = subprocess.Popen(["true"])
        dead.wait()
        (repo / ".git/wt-hooks.json").write_text(json.dumps({
            "pid": dead.pid, "pgid": bystander.pid, "hook": "pre-commit",
            "cwd": os.fspath(repo), "started": 0, "nonce": "forged"}))  # fmt: skip
        out = json.loads(git_wt(repo, "doctor", "--json").stdout)
        kinds = [f["kind"] for f in out["findings"]]
        assert kinds == ["orphan_hook_unproven"], out
        assert out["findings"][0]["unproven"] == [bystander.pid]
        git_wt(repo, "doctor", "--fix", "--json")
        hook = write(repo, ".git/hooks/pre-commit", "#!/bin/sh\nexit 0\n")
        hook.chmod(0o755)
        write(repo, "a.txt", "a\n")
        proc = wt_commit(repo, "-m", "a", "--", "a.txt")
        assert proc.returncode == 0, proc.stderr
        assert bystander.poll() is None  # alive after doctor --fix and a commit
        assert "not proven" in proc.stderr or not (repo / ".git/wt-hooks.json").exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_a_real_orphan_is_still_ended(repo: Path) -> None:
    """The proof does not stop the real case: wt-commit SIGKILLed mid-hook."""
    hook = write(repo, ".git/hooks/pre-commit", "#!/bin/sh\nsleep 60 &\nsleep 60\n")
    hook.chmod(0o755)
    write(repo, "a.txt", "a\n")
    proc = subprocess.Popen([WT_COMMIT, "-m", "a", "--", "a.txt"], cwd=repo,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    record = repo / ".git/wt-hooks.json"
    deadline = time.monotonic() + 30
    while not (record.exists() and json.loads(record.read_text())["pgid"]):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    pgid = json.loads(record.read_text())["pgid"]
    hook.write_text("#!/bin/sh\nexit 0\n")
    before = head(repo)
    assert wt_commit(repo, "-m", "a", "--", "a.txt").returncode == 0
    assert head(repo) != before
    deadline = time.monotonic() + 10
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "orphaned hook still running"
        time.sleep(0.05)
