"""git wt hooks install/uninstall/status, the plain-git-commit guard, and git wt doctor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import GIT_WT, git, git_wt, head, write, wt_commit

from worktree_tools.hooks.shimtext import shim_text
from worktree_tools.hooks.slots import MANAGED

ROOT = Path(__file__).resolve().parents[2]


def hook(repo: Path, name: str, body: str) -> Path:
    path = write(repo / ".git/hooks", name, "#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_shipped_shims_are_the_installed_text() -> None:
    text = (ROOT / "hooks/pre-commit").read_text()
    assert text == shim_text("pre-commit")
    assert os.access(ROOT / "hooks/pre-commit", os.X_OK)
    for name in MANAGED:
        shim = shim_text(name)
        assert ".venv" not in shim and sys.prefix not in shim  # never a virtualenv path


def test_install_chains_and_uninstall_restores_byte_for_byte(repo: Path) -> None:
    mine = hook(repo, "pre-commit", 'echo ran >> "$MARK"\n')
    mine.chmod(0o751)
    before = (mine.read_bytes(), mine.stat().st_mode)
    out = git_wt(repo, "hooks", "install", "--json")
    assert out.returncode == 0, out.stderr
    actions = {c["hook"]: c["action"] for c in json.loads(out.stdout)["changes"]}
    assert actions == {
        "pre-commit": "chained",
        "pre-push": "installed",
        "reference-transaction": "installed",
    }
    again = json.loads(git_wt(repo, "hooks", "install", "--json").stdout)
    assert {c["action"] for c in again["changes"]} == {"already"}  # idempotent
    status = json.loads(git_wt(repo, "hooks", "status", "--json").stdout)
    assert status["hooks"][0]["state"] == "installed" and status["hooks"][0]["chained"]

    mark = repo.parent / "mark"
    write(repo, "a.txt", "a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-qm", "plain", env={"MARK": os.fspath(mark)})
    assert mark.read_text() == "ran\n"  # the chained hook still runs under plain git
    write(repo, "b.txt", "b\n")
    assert wt_commit(repo, "-m", "b", "--", "b.txt", env={"MARK": os.fspath(mark)}).returncode == 0
    assert mark.read_text() == "ran\nran\n"

    assert git_wt(repo, "hooks", "uninstall").returncode == 0
    assert (mine.read_bytes(), mine.stat().st_mode) == before
    assert not (repo / ".git/hooks/pre-push").exists()
    assert not (repo / ".git/hooks/pre-commit.wt-chained").exists()


def test_failing_chained_hook_still_blocks_plain_commit(repo: Path) -> None:
    hook(repo, "pre-commit", "echo 'no way' >&2; exit 1\n")
    assert git_wt(repo, "hooks", "install").returncode == 0
    write(repo, "a.txt", "a\n")
    git(repo, "add", "a.txt")
    proc = subprocess.run(["git", "commit", "-qm", "x"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode != 0 and "no way" in proc.stderr


def test_core_hooks_path_is_honoured(repo: Path) -> None:
    git(repo, "config", "core.hooksPath", "team-hooks")
    out = json.loads(git_wt(repo, "hooks", "install", "--json").stdout)
    assert out["hooks_dir"] == os.fspath(repo / "team-hooks")
    assert "worktree-tools hook shim" in (repo / "team-hooks/pre-commit").read_text()


@pytest.mark.parametrize("kind", ["binary", "symlink", "tracked"])
def test_unknown_hooks_are_not_touched_without_the_option(repo: Path, kind: str) -> None:
    hooks_dir = repo / ".git/hooks"
    hooks_dir.mkdir(exist_ok=True)
    target = hooks_dir / "pre-commit"
    if kind == "binary":
        target.write_bytes(b"\x7fELF\0\0binary")
        target.chmod(0o755)
    elif kind == "symlink":
        os.symlink("/bin/true", target)
    else:
        git(repo, "config", "core.hooksPath", ".husky")
        target = hook(repo, "pre-commit", "exit 0\n")
        target = write(repo, ".husky/pre-commit", "#!/bin/sh\nexit 0\n")
        target.chmod(0o755)
        git(repo, "add", ".husky/pre-commit")
        git(repo, "commit", "-qm", "husky")
    before = sorted(p.name for p in target.parent.iterdir())
    out = git_wt(repo, "hooks", "install", "--json")
    assert out.returncode == 2, out.stderr
    assert "--chain-unknown" in json.loads(out.stdout)["fix"]
    assert sorted(p.name for p in target.parent.iterdir()) == before
    assert git_wt(repo, "hooks", "install", "--chain-unknown").returncode == 0
    assert (target.parent / "pre-commit.wt-chained").is_symlink() == (kind == "symlink")


def test_install_works_from_a_linked_worktree(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", "-b", "other", os.fspath(other))
    assert git_wt(other, "hooks", "install").returncode == 0
    assert "worktree-tools hook shim" in (repo / ".git/hooks/pre-commit").read_text()


SLOW_RECORDING_HOOK = """echo "enter $$" >> "$LOG"
sleep 1
echo "exit $$" >> "$LOG"
"""


def test_guard_serializes_plain_git_commit_with_wt_commit(repo: Path) -> None:
    """A plain `git commit -a` (holds index.lock through its hooks, then wants the hook lock)
    and a wt-commit (hook lock during hooks, then index.lock) in one worktree: hooks never
    overlap, no deadlock, and both commits land (wt-commit replays onto the plain one)."""
    hook(repo, "pre-commit", SLOW_RECORDING_HOOK)
    assert git_wt(repo, "hooks", "install").returncode == 0
    log = repo.parent / "hooks.log"
    env = {**os.environ, "LOG": os.fspath(log)}
    write(repo, "w.txt", "wt\n")
    write(repo, "p.txt", "plain\n")
    git(repo, "add", "p.txt")
    first = subprocess.Popen(
        [os.fspath(Path(GIT_WT).parent / "wt-commit"), "--json", "--hooks", "in-place",
         "-m", "w", "--", "w.txt"], cwd=repo, env=env, stdout=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.time() + 20
    while not (log.exists() and log.read_text()) and time.time() < deadline:
        time.sleep(0.02)
    second = subprocess.Popen(
        ["git", "commit", "-a", "-qm", "p"], cwd=repo, env=env, stderr=subprocess.PIPE
    )
    assert first.wait(timeout=60) == 0
    assert json.loads(first.stdout.read())["outcome"] == "committed"  # type: ignore[union-attr]
    assert second.wait(timeout=60) == 0, second.stderr.read()  # type: ignore[union-attr]
    lines = log.read_text().split()
    kinds = lines[0::2]
    assert kinds == ["enter", "exit", "enter", "exit"], lines  # one at a time
    assert sorted(git(repo, "log", "--format=%s", "-2").split()) == ["p", "w"]


def test_doctor_finds_and_repairs_a_stale_index_lock(repo: Path) -> None:
    lock = repo / ".git/index.lock"
    lock.write_bytes(b"")
    old = time.time() - 60
    os.utime(lock, (old, old))
    out = git_wt(repo, "doctor", "--json")
    assert out.returncode == 7
    (finding,) = json.loads(out.stdout)["findings"]
    assert finding["kind"] == "stale_lock" and not finding["fixed"]
    assert lock.exists()  # finding is not fixing
    out = git_wt(repo, "doctor", "--fix", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["findings"][0]["fixed"]
    assert not lock.exists()
    assert "stale_lock_removed" in (repo / ".git/wt/events.jsonl").read_text()


def test_doctor_leaves_a_live_lock_alone(repo: Path) -> None:
    hook(repo, "pre-commit", "sleep 3\n")
    write(repo, "a.txt", "a\n")
    git(repo, "add", "a.txt")
    # `commit -a` holds index.lock while its hooks run (a plain `commit` releases it first)
    proc = subprocess.Popen(["git", "commit", "-a", "-qm", "slow"], cwd=repo)
    lock = repo / ".git/index.lock"
    deadline = time.time() + 10
    while not lock.exists() and time.time() < deadline:
        time.sleep(0.02)
    out = git_wt(repo, "doctor", "--fix", "--json")
    kinds = [f["kind"] for f in json.loads(out.stdout)["findings"]]
    assert "live_lock" in kinds and lock.exists()
    assert proc.wait(timeout=30) == 0


def test_doctor_secures_a_stranded_pre_commit_patch(repo: Path, tmp_path: Path) -> None:
    """R3: pre-commit saved unstaged work to its cache, then the commit was killed. doctor
    secures the patch and names the command; it never writes into the live worktree itself
    (a restored-then-discarded patch looks the same)."""
    write(repo, "README", "hello\nunstaged work that only the patch holds\n")
    patch = git(repo, "diff", "--binary")
    git(repo, "checkout", "--", "README")  # what pre-commit's `git checkout -- .` did
    cache = Path(os.environ["PRE_COMMIT_HOME"])
    cache.mkdir(parents=True, exist_ok=True)
    dead_pid = 2**22 + 12345  # above any pid this machine hands out
    name = f"patch1700000000-{dead_pid}"
    (cache / name).write_text(patch)
    out = json.loads(git_wt(repo, "doctor", "--json").stdout)
    assert [f["kind"] for f in out["findings"]] == ["stranded_patch"]
    fixed = git_wt(repo, "doctor", "--fix", "--json")
    finding = json.loads(fixed.stdout)["findings"][0]
    assert fixed.returncode == 0 and finding["fixed"]
    assert (repo / "README").read_text() == "hello\n"  # the live tree is not touched
    kept = repo / ".git/wt/rescued-patches" / name
    assert kept.read_text() == patch
    assert json.loads(git_wt(repo, "doctor", "--json").stdout)["findings"] == []  # secured
    apply = finding["apply"].split()
    subprocess.run(apply, check=True)  # the named command brings the work back
    assert "unstaged work that only the patch holds" in (repo / "README").read_text()


def test_doctor_skips_the_patch_of_a_running_pre_commit(repo: Path) -> None:
    write(repo, "README", "hello\nmid-run\n")
    patch = git(repo, "diff", "--binary")
    git(repo, "checkout", "--", "README")
    cache = Path(os.environ["PRE_COMMIT_HOME"])
    cache.mkdir(parents=True, exist_ok=True)
    (cache / f"patch1700000000-{os.getpid()}").write_text(patch)  # a live "pre-commit" pid
    assert json.loads(git_wt(repo, "doctor", "--json").stdout)["findings"] == []


def test_doctor_repairs_leaked_core_worktree(repo: Path, tmp_path: Path) -> None:
    git(repo, "worktree", "add", "-q", "-b", "x", os.fspath(tmp_path / "x"))
    git(repo, "config", "--file", os.fspath(repo / ".git/config"), "core.worktree", "/tmp/nope")
    out = json.loads(git_wt(repo, "doctor", "--fix", "--json").stdout)
    by_subject = {f["subject"]: f for f in out["findings"]}
    assert (
        by_subject["core.worktree"]["fixed"] and "/tmp/nope" in by_subject["core.worktree"]["undo"]
    )
    assert git(repo, "config", "core.worktree", check=False) == ""


def test_doctor_ends_hooks_orphaned_by_a_killed_commit(repo: Path) -> None:
    hook(repo, "pre-commit", "sleep 60\n")
    write(repo, "a.txt", "a\n")
    proc = subprocess.Popen(
        [os.fspath(Path(GIT_WT).parent / "wt-commit"), "-m", "a", "--", "a.txt"], cwd=repo,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    record = repo / ".git/wt-hooks.json"
    deadline = time.time() + 20
    while time.time() < deadline:  # written before the hook starts; the group once it has
        if record.exists() and json.loads(record.read_text()).get("pgid"):
            break
        time.sleep(0.02)
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    pgid = json.loads(record.read_text())["pgid"]
    os.killpg(pgid, 0)  # the hook outlived its committer
    out = json.loads(git_wt(repo, "doctor", "--json").stdout)
    assert [f["kind"] for f in out["findings"]] == ["orphan_hook"]
    out = json.loads(git_wt(repo, "doctor", "--fix", "--json").stdout)
    assert out["findings"][0]["fixed"]
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("orphaned hook still running")
    assert head(repo) == git(repo, "rev-parse", "HEAD").strip()


def test_installed_hooks_enforce_the_journal_on_plain_git(repo: Path, tmp_path: Path) -> None:
    assert git_wt(repo, "hooks", "install").returncode == 0
    write(repo, "journal/a.md", "first\n")
    git(repo, "add", "journal/a.md")
    git(repo, "commit", "-qm", "entry")
    write(repo, "journal/a.md", "rewritten\n")
    git(repo, "add", "journal/a.md")
    proc = subprocess.run(
        ["git", "commit", "-qm", "edit"], cwd=repo, capture_output=True, text=True
    )
    assert proc.returncode != 0 and "journal" in proc.stderr
    # pre-push: a violation committed with --no-verify is refused at push time
    git(repo, "commit", "-qm", "edit", "--no-verify")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", os.fspath(remote))
    git(repo, "remote", "add", "origin", os.fspath(remote))
    push = subprocess.run(
        ["git", "push", "origin", "main"], cwd=repo, capture_output=True, text=True
    )
    assert push.returncode != 0 and "journal" in push.stderr
    assert git(remote, "for-each-ref") == ""  # nothing reached the remote


def test_shim_starts_no_python_when_wt_commit_runs_the_hook(repo: Path, tmp_path: Path) -> None:
    """Under wt-commit (the shim's parent, named in WT_HOOK_LOCK_HELD) the installed pre-commit
    shim runs the chained hook itself; a plain `git commit`, even with the variable inherited,
    still goes through `git wt hooks run` (the hook lock and the journal rules)."""
    hook(repo, "pre-commit", 'echo "hook $*" >> "$MARK"\n')
    assert git_wt(repo, "hooks", "install").returncode == 0
    mark, started = tmp_path / "mark", tmp_path / "started"
    spy = write(
        tmp_path, "spy-git-wt", f'#!/bin/sh\necho "$@" >> "{started}"\nexec {GIT_WT} "$@"\n'
    )
    spy.chmod(0o755)
    env = {"MARK": os.fspath(mark), "WT_GIT_WT": os.fspath(spy)}
    write(repo, "a.txt", "a\n")
    assert wt_commit(repo, "-m", "a", "--", "a.txt", env=env).returncode == 0
    assert mark.read_text() == "hook \n"  # the chained hook ran
    assert not started.exists()  # ... and no git-wt (no Python) on the way
    write(repo, "b.txt", "b\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-qm", "plain", env={**env, "WT_HOOK_LOCK_HELD": str(os.getpid())})
    assert mark.read_text() == "hook \nhook \n"
    assert started.read_text().startswith("hooks run pre-commit")  # the guard's Python path
    # A forged mark naming the shim's real parent but not the record's nonce: Python decides.
    started.unlink()
    forged = f"{os.getpid()}:{'0' * 32}:{repo / '.git'}"
    shim = subprocess.run(
        [os.fspath(repo / ".git/hooks/pre-commit")],
        cwd=repo,
        env={**os.environ, **env, "WT_HOOK_LOCK_HELD": forged},
        capture_output=True,
        text=True,
    )
    assert shim.returncode == 0, shim.stderr
    assert started.read_text().startswith("hooks run pre-commit")


def test_a_deleted_shim_is_reinstalled_over_the_same_chain(repo: Path) -> None:
    mine = hook(repo, "pre-commit", "echo mine\n")
    before = mine.read_bytes()
    assert git_wt(repo, "hooks", "install").returncode == 0
    mine.unlink()  # someone deleted the shim; the chained hook is still there
    slot = json.loads(git_wt(repo, "hooks", "status", "--json").stdout)["hooks"][0]
    assert slot["state"] == "bypassed"
    out = json.loads(git_wt(repo, "hooks", "install", "--json").stdout)
    assert out["changes"][0]["action"] == "repaired"
    assert (repo / ".git/hooks/pre-commit.wt-chained").read_bytes() == before
    assert git_wt(repo, "hooks", "uninstall").returncode == 0
    assert mine.read_bytes() == before


def test_a_hook_checkout_dir_inside_git_is_refused(repo: Path) -> None:
    hook(repo, "pre-commit", "exit 0\n")
    git(repo, "config", "wt.hookCheckoutDir", ".git/hooks-here")
    write(repo, "a.txt", "a\n")
    proc = wt_commit(repo, "--json", "--hooks", "isolated", "-m", "a", "--", "a.txt")
    out = json.loads(proc.stdout)
    assert proc.returncode == 2 and "inside a .git directory" in out["error"], out
    assert "wt.hookCheckoutDir" in out["fix"]
    assert not (repo / ".git/hooks-here").exists()


def test_install_and_uninstall_report_their_actions_as_the_enum_s_words(repo: Path) -> None:
    """HookAction end to end: the same words in the JSON and the text as before it was an Enum."""
    from worktree_tools.hooks.install import HookAction

    installed = git_wt(repo, "hooks", "install", "--json")
    actions = {c["action"] for c in json.loads(installed.stdout)["changes"]}
    assert installed.returncode == 0 and actions == {"installed"}
    again = git_wt(repo, "hooks", "install")
    assert "pre-commit: already" in again.stdout and "HookAction" not in again.stdout
    removed = git_wt(repo, "hooks", "uninstall", "--json")
    assert {c["action"] for c in json.loads(removed.stdout)["changes"]} == {"removed"}
    assert {a.value for a in HookAction} >= {"installed", "chained", "repaired", "restored"}
