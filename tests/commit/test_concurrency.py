"""Many real processes at once: commits in one worktree and across worktrees, hooks that must (or
need not) take turns, lock timeouts that name the holder, dead holders, and the event log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import psutil
import pytest
from conftest import WT_COMMIT, committed_files, git, head, run_all, write

# Each worker waits for the start file, then runs wt-commit once per path, one after another,
# and records every run as one JSON line. Several workers overlap for real.
WORKER = r"""
import json, os, subprocess, sys, time
wt_commit, cwd, go, out, agent, *paths = sys.argv[1:]
give_up = time.monotonic() + 60
while not os.path.exists(go):
    if time.monotonic() > give_up:
        sys.exit("the start file never appeared")
    time.sleep(0.002)
with open(out, "w") as fh:
    for path in paths:
        p = subprocess.run(
            [wt_commit, "--json", "--agent", agent, "-m", f"{agent}: {path}", "--", path],
            cwd=cwd, capture_output=True, text=True,
        )
        fh.write(json.dumps({"path": path, "rc": p.returncode, "out": p.stdout,
                             "err": p.stderr}) + "\n")
"""

APPENDER = r"""
import os, sys, time
from pathlib import Path
from worktree_tools.core import events
state_dir, go, agent, count, size = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:])
while not os.path.exists(go):
    time.sleep(0.002)
for seq in range(count):
    unit = f"{agent}#{seq};"
    events.append(Path(state_dir), "stress", agent, seq=seq, blob=unit * (size // len(unit) + 1))
"""

# A hook that blocks while $HOOK_BLOCK is set: it says it entered (writing its pid), then waits
# for the release file (at most 30 s, so a broken test cannot hang forever).
BLOCKING_HOOK = """#!/bin/sh
if [ -n "$HOOK_BLOCK" ]; then
    echo $$ > "$HOOK_BLOCK.tmp" && mv "$HOOK_BLOCK.tmp" "$HOOK_BLOCK.entered"
    i=0
    while [ ! -e "$HOOK_BLOCK.release" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
fi
exit 0
"""

NO_OPTIONAL_LOCKS = {"GIT_OPTIONAL_LOCKS": "0"}


# --- helpers -------------------------------------------------------------------------------


def common_dir(repo: Path) -> Path:
    return Path(git(repo, "rev-parse", "--path-format=absolute", "--git-common-dir").strip())


def git_dir(repo: Path) -> Path:
    return Path(git(repo, "rev-parse", "--absolute-git-dir").strip())


def read_events(repo: Path) -> list[dict[str, Any]]:
    log = common_dir(repo) / "wt" / "events.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line]


def install_hook(repo: Path, name: str, body: str) -> None:
    hook = common_dir(repo) / "hooks" / name
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(body)
    hook.chmod(0o755)


def wait_for(path: Path, timeout: float = 30) -> None:
    give_up = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < give_up, f"{path} never appeared"
        time.sleep(0.01)


def stage_entries(repo: Path, paths: Iterable[str]) -> str:
    """`git ls-files -s` for `paths`: mode, blob and stage of each index entry."""
    return git(repo, "ls-files", "-s", "--", *paths)


def changed_names(repo: Path, *args: str) -> list[str]:
    out = git(repo, "diff", "--name-only", "-z", "--no-renames", *args, env=NO_OPTIONAL_LOCKS)
    return sorted(p for p in out.split("\0") if p)


def assert_no_leftovers(repo: Path) -> None:
    """No git lock file, no holder record, no temporary file anywhere in the git dirs.
    worktree-tools' own flocks (`wt/repo.lock`, `wt/worktree-admin.lock`,
    `<git dir>/wt-*.lock`) stay: never unlinked."""
    common = common_dir(repo)
    git_dirs = {common, *common.glob("worktrees/*")}
    left = []
    for path in common.rglob("*"):
        name = path.name
        flock = (path.parent == common / "wt" and name in ("repo.lock", "worktree-admin.lock")) or (
            path.parent in git_dirs and name.startswith("wt-") and name.endswith(".lock")
        )
        git_lock = name.endswith(".lock") and not flock
        if git_lock or name.endswith((".lock.json", ".tmp")) or path.parent.name == "wt-tmp":
            left.append(path)
    assert left == []


def assert_fsck_clean(repo: Path) -> None:
    proc = subprocess.run(
        ["git", "fsck", "--no-dangling", "--no-progress"], cwd=repo, capture_output=True, text=True
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def assert_linear(repo: Path, base: str, tip: str, count: int) -> list[str]:
    """`count` single-parent commits from base to tip; returns them oldest first."""
    rows = git(repo, "rev-list", "--reverse", "--parents", f"{base}..{tip}").splitlines()
    assert len(rows) == count
    chain = [row.split() for row in rows]
    assert all(len(c) == 2 for c in chain), "a merge or a root in the range"
    parents = [base] + [c[0] for c in chain[:-1]]
    assert [c[1] for c in chain] == parents
    return [c[0] for c in chain]


class Scene:
    """Another agent's work in a worktree: staged entries and dirty (unstaged) files."""

    def __init__(self, root: Path, tag: str) -> None:
        self.root = root
        self.staged = [f"other-{tag}/staged-mod.txt", f"other-{tag}/staged-new.txt"]
        self.dirty = [f"other-{tag}/dirty-{k}.txt" for k in range(3)]

    def commit_base(self) -> None:
        for rel in [self.staged[0], *self.dirty]:
            write(self.root, rel, f"base {rel}\n")
        git(self.root, "add", "--", self.staged[0], *self.dirty)
        git(self.root, "commit", "-qm", "other agent's base files")

    def make_mess(self) -> None:
        write(self.root, self.staged[0], "staged change\n")
        write(self.root, self.staged[1], "staged new file\n")
        git(self.root, "add", "--", *self.staged)
        for rel in self.dirty:
            write(self.root, rel, f"unsaved edit of {rel}\n")
        self.before_entries = stage_entries(self.root, self.staged + self.dirty)
        self.before_bytes = {rel: (self.root / rel).read_bytes() for rel in self.dirty}

    def assert_untouched(self) -> None:
        assert stage_entries(self.root, self.staged + self.dirty) == self.before_entries
        assert {rel: (self.root / rel).read_bytes() for rel in self.dirty} == self.before_bytes
        assert changed_names(self.root, "--cached") == sorted(self.staged)
        assert changed_names(self.root) == sorted(self.dirty)


def run_workers(
    tmp: Path, jobs: Sequence[tuple[Path, str, list[str]]], env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Start one worker per (cwd, agent, paths), release them together, return every run."""
    go = tmp / "go"
    procs, outs = [], []
    env = {**os.environ, "WT_LOCK_TIMEOUT": "120", **(env or {})}
    for n, (cwd, agent, paths) in enumerate(jobs):
        out = tmp / f"worker-{n}.jsonl"
        cmd = [sys.executable, "-c", WORKER, WT_COMMIT, os.fspath(cwd), os.fspath(go)]
        procs.append(subprocess.Popen([*cmd, os.fspath(out), agent, *paths], env=env))
        outs.append(out)
    go.touch()
    assert run_all(procs, timeout=300) == [0] * len(procs)
    runs = [json.loads(line) for out in outs for line in out.read_text().splitlines()]
    assert len(runs) == sum(len(paths) for _, _, paths in jobs)
    return runs


def assert_all_committed(repo: Path, runs: list[dict[str, Any]]) -> dict[str, str]:
    """Every run exited 0 with a commit of exactly its own path; returns commit -> path."""
    by_commit: dict[str, str] = {}
    for run in runs:
        assert run["rc"] == 0, run
        result = json.loads(run["out"])
        assert result["outcome"] == "committed", run
        assert result["paths"] == [run["path"]]
        assert committed_files(repo, result["commit"]) == [run["path"]]
        by_commit[result["commit"]] = run["path"]
    assert len(by_commit) == len(runs)
    return by_commit


def committed_events(repo: Path) -> list[dict[str, Any]]:
    return [e for e in read_events(repo) if e["action"] == "commit" and e["outcome"] == "committed"]


def hook_log(path: Path) -> list[tuple[str, str, str]]:
    return [tuple(line.split(" ", 2)) for line in path.read_text().splitlines()]  # type: ignore[misc]


def max_inside(log: list[tuple[str, str, str]]) -> int:
    """The largest number of hooks running at one moment, from the order of enter/exit lines."""
    inside: set[tuple[str, str]] = set()
    most = 0
    for kind, who, where in log:
        if kind == "enter":
            inside.add((who, where))
        else:
            inside.remove((who, where))
        most = max(most, len(inside))
    assert not inside, "a hook entered and never left"
    return most


# --- commits at once -----------------------------------------------------------------------


def test_eight_processes_one_worktree_commit_only_their_own_paths(
    repo: Path, tmp_path: Path
) -> None:
    other = Scene(repo, "x")
    other.commit_base()
    base = head(repo)
    jobs = []
    for a in range(8):
        paths = [f"agent{a}/file{f}.txt" for f in range(10)]
        for rel in paths:
            write(repo, rel, f"agent {a} wrote {rel}\n")
        jobs.append((repo, f"agent{a}", paths))
    other.make_mess()

    runs = run_workers(tmp_path, jobs)

    by_commit = assert_all_committed(repo, runs)
    chain = assert_linear(repo, base, head(repo), 80)
    assert set(chain) == set(by_commit)
    assert head(repo) == head(repo, "refs/heads/main")
    other.assert_untouched()
    porcelain = git(repo, "status", "--porcelain", "-uall", env=NO_OPTIONAL_LOCKS).splitlines()
    assert sorted(porcelain) == sorted(
        [f"M  {other.staged[0]}", f"A  {other.staged[1]}"] + [f" M {d}" for d in other.dirty]
    )
    assert_fsck_clean(repo)
    assert_no_leftovers(repo)
    events = committed_events(repo)
    assert len(events) == 80
    assert {e["commit"] for e in events} == set(by_commit)


# Logs the paths the commit changes, as the hook sees them, one commit per line.
SEEN_HOOK = """#!/bin/sh
seen=$(git diff --cached --name-only --no-renames | tr '\\n' ' ')
printf '%s\\n' "${seen% }" >> "$HOOK_LOG"
"""


def test_four_worktrees_several_processes_each(repo: Path, tmp_path: Path) -> None:
    base = head(repo)
    trees = []
    for w in range(4):
        root = tmp_path / f"wt{w}"
        git(repo, "worktree", "add", "-q", "-b", f"wt{w}", os.fspath(root))
        trees.append(root)
    scenes = [Scene(root, f"w{w}") for w, root in enumerate(trees)]
    for scene in scenes:
        scene.commit_base()
    bases = [head(root) for root in trees]
    jobs = []
    for w, root in enumerate(trees):
        for a in range(3):
            paths = [f"w{w}-agent{a}/f{f}.txt" for f in range(4)]
            for rel in paths:
                write(root, rel, f"{rel} in worktree {w}\n")
            jobs.append((root, f"w{w}-agent{a}", paths))
    for scene in scenes:
        scene.make_mess()
    # Every hook run must see exactly the one path its commit adds, whatever runs beside it.
    install_hook(repo, "pre-commit", SEEN_HOOK)
    seen = tmp_path / "seen.log"

    runs = run_workers(tmp_path, jobs, env={"HOOK_LOG": os.fspath(seen)})

    assert head(repo, "refs/heads/main") == base
    for w, root in enumerate(trees):
        mine = [r for r in runs if r["path"].startswith(f"w{w}-")]
        by_commit = assert_all_committed(root, mine)
        assert {json.loads(r["out"])["branch"] for r in mine} == {f"wt{w}"}
        chain = assert_linear(repo, bases[w], head(repo, f"refs/heads/wt{w}"), 12)
        assert set(chain) == set(by_commit)
        assert head(root) == head(repo, f"refs/heads/wt{w}")
        scenes[w].assert_untouched()
        assert git(root, "status", "--porcelain", "-uall", "--", f"w{w}-*") == ""
    assert sorted(seen.read_text().splitlines()) == sorted(r["path"] for r in runs)
    assert_fsck_clean(repo)
    assert_no_leftovers(repo)
    events = committed_events(repo)
    assert len(events) == 48
    assert sorted(e["branch"] for e in events) == sorted(
        f"wt{w}" for w in range(4) for _ in range(12)
    )


# --- hooks ---------------------------------------------------------------------------------

# $HOOK_TAG names the worktree (hooks may run in an isolated checkout, so not `pwd`); $PPID is
# the wt-commit that runs the hook.
RECORDING_HOOK = """#!/bin/sh
printf 'enter %s %s\\n' "$PPID" "$HOOK_TAG" >> "$HOOK_LOG"
{wait}
printf 'exit %s %s\\n' "$PPID" "$HOOK_TAG" >> "$HOOK_LOG"
"""


def test_hooks_of_one_worktree_never_overlap(repo: Path, tmp_path: Path) -> None:
    install_hook(repo, "pre-commit", RECORDING_HOOK.format(wait="sleep 0.3"))
    log = tmp_path / "hooks.log"
    names = [f"p{n}.txt" for n in range(4)]
    for rel in names:
        write(repo, rel, rel)
    env = {**os.environ, "HOOK_LOG": os.fspath(log), "HOOK_TAG": "main"}
    procs = [
        subprocess.Popen([WT_COMMIT, "-m", rel, "--", rel], cwd=repo, env=env) for rel in names
    ]
    assert run_all(procs) == [0, 0, 0, 0]

    events = hook_log(log)
    assert [kind for kind, _, _ in events] == ["enter", "exit"] * 4
    assert sorted(int(who) for _, who, _ in events[::2]) == sorted(p.pid for p in procs)
    assert max_inside(events) == 1


@pytest.mark.parametrize(
    "layout",
    [
        "two-linked",
        # Regression: the main worktree's hook checkout and that of a linked worktree named
        # "main" once shared one path, and concurrent commits swapped each other's trees.
        "main-and-linked-named-main",
    ],
)
def test_hooks_of_different_worktrees_overlap(repo: Path, tmp_path: Path, layout: str) -> None:
    # Each hook waits (at most 5 s) until it has seen two enters: hooks that had to take turns
    # across worktrees would log enter, exit, enter, exit instead.
    wait = (
        'i=0; while [ "$(grep -c \'^enter\' "$HOOK_LOG")" -lt 2 ] && [ $i -lt 100 ]; '
        "do sleep 0.05; i=$((i+1)); done"
    )
    install_hook(repo, "pre-commit", RECORDING_HOOK.format(wait=wait))
    log = tmp_path / "hooks.log"
    log.touch()
    names = ["wt0", "wt1"] if layout == "two-linked" else ["main"]
    trees = [] if layout == "two-linked" else [repo]
    for name in names:
        root = tmp_path / name
        git(repo, "worktree", "add", "-q", "-b", f"branch-{name}", os.fspath(root))
        trees.append(root)
    mine = {root: f"{root.name}.txt" for root in trees}
    for root, rel in mine.items():
        write(root, rel, f"only in {root}\n")
    procs = [
        subprocess.Popen(
            [WT_COMMIT, "-m", "mine", "--", rel],
            cwd=root,
            env={**os.environ, "HOOK_LOG": os.fspath(log), "HOOK_TAG": root.name},
        )
        for root, rel in mine.items()
    ]
    assert run_all(procs) == [0, 0]

    events = hook_log(log)
    assert [kind for kind, _, _ in events] == ["enter", "enter", "exit", "exit"]
    assert {where for _, _, where in events[:2]} == {t.name for t in trees}
    assert max_inside(events) == 2
    for root, rel in mine.items():
        assert committed_files(root) == [rel]
        assert git(root, "show", f"HEAD:{rel}") == f"only in {root}\n"
        assert changed_names(root, "--cached") == []


# --- lock holders --------------------------------------------------------------------------


def start_blocked_commit(
    repo: Path, tmp_path: Path, agent: str, rel: str
) -> tuple[subprocess.Popen[bytes], Path, int]:
    """A wt-commit of `rel` whose pre-commit hook is blocked (holding the worktree lock).
    Returns the process, the block file prefix and the hook's pid."""
    install_hook(repo, "pre-commit", BLOCKING_HOOK)
    block = tmp_path / "block"
    proc = subprocess.Popen(
        [WT_COMMIT, "--json", "--agent", agent, "-m", "slow", "--", rel],
        cwd=repo,
        env={**os.environ, "HOOK_BLOCK": os.fspath(block)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    entered = block.with_name("block.entered")
    wait_for(entered)
    return proc, block, int(entered.read_text())


def running(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def test_lock_timeout_names_the_holder(repo: Path, tmp_path: Path) -> None:
    write(repo, "slow.txt", "slow\n")
    write(repo, "quick.txt", "quick\n")
    base = head(repo)
    holder, block, _ = start_blocked_commit(repo, tmp_path, "slow-agent", "slow.txt")
    try:
        index_before = (repo / ".git" / "index").read_bytes()
        quick = [WT_COMMIT, "--agent", "quick-agent"]
        res = subprocess.run(
            [*quick, "--lock-timeout", "0.5", "--json", "-m", "q", "--", "quick.txt"],
            cwd=repo,
            capture_output=True,
            text=True,
        )
        assert res.returncode == 3, res.stderr
        out = json.loads(res.stdout)
        assert out["outcome"] == "lock_timeout"
        assert "'slow-agent'" in out["error"]
        assert f"pid {holder.pid} " in out["error"]
        assert out["holder"]["agent"] == "slow-agent"
        assert out["holder"]["pid"] == holder.pid
        assert head(repo) == base
        assert (repo / ".git" / "index").read_bytes() == index_before
    finally:
        block.with_name("block.release").touch()
        stdout, _ = holder.communicate(timeout=60)
    assert holder.returncode == 0
    assert json.loads(stdout)["outcome"] == "committed"
    assert committed_files(repo) == ["slow.txt"]
    assert git(repo, "rev-parse", "HEAD~1").strip() == base
    assert git(repo, "ls-files", "--", "quick.txt") == ""
    failed = [e for e in read_events(repo) if e["agent"] == "quick-agent"]
    assert [e["outcome"] for e in failed] == ["lock_timeout"]


def test_a_holder_killed_mid_hook_frees_the_lock(repo: Path, tmp_path: Path) -> None:
    write(repo, "killed.txt", "never committed\n")
    write(repo, "next.txt", "next\n")
    base = head(repo)
    entries = git(repo, "ls-files", "-s")
    holder, block, hook_pid = start_blocked_commit(repo, tmp_path, "doomed", "killed.txt")
    try:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.communicate(timeout=30)
        assert holder.returncode == -signal.SIGKILL
        assert head(repo) == base
        assert git(repo, "ls-files", "-s") == entries

        # --lock-timeout 0: one try at each lock, so a lock still held fails this at once.
        res = subprocess.run(
            [WT_COMMIT, "--json", "--lock-timeout", "0", "-m", "next", "--", "next.txt"],
            cwd=repo,
            capture_output=True,
            text=True,
        )
        assert res.returncode == 0, res.stdout + res.stderr
        assert json.loads(res.stdout)["outcome"] == "committed"
        assert committed_files(repo) == ["next.txt"]
        assert git(repo, "rev-parse", "HEAD~1").strip() == base
        assert git(repo, "ls-files", "--", "killed.txt") == ""
        assert "doomed" not in {e["agent"] for e in read_events(repo)}
        assert_no_leftovers(repo)
        # The dead committer's hook (if it outlived its group) must not live on (RACES R2).
        give_up = time.monotonic() + 10
        while running(hook_pid) and time.monotonic() < give_up:
            time.sleep(0.02)
        assert not running(hook_pid)
    finally:
        block.with_name("block.release").touch()


# Regression: a swap that failed other than by losing the race (a timeout on the branch's ref
# lock, a refusal) once left the commit's paths staged in the shared index.
def test_timeout_on_the_branch_lock_names_git_and_leaves_the_index(repo: Path) -> None:
    write(repo, "theirs.txt", "staged by another agent\n")
    git(repo, "add", "theirs.txt")
    write(repo, "mine.txt", "mine\n")
    base = head(repo)
    entries = git(repo, "ls-files", "-s")
    # A live git holding refs/heads/main.lock: a prepared ref transaction waits for its commit.
    holder = subprocess.Popen(
        ["git", "update-ref", "--stdin"],
        cwd=repo,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        holder.stdin.write(f"start\nupdate refs/heads/main {base} {base}\nprepare\n")
        holder.stdin.flush()
        assert [holder.stdout.readline(), holder.stdout.readline()] == [
            "start: ok\n",
            "prepare: ok\n",
        ]
        res = subprocess.run(
            [WT_COMMIT, "--json", "--lock-timeout", "1", "-m", "mine", "--", "mine.txt"],
            cwd=repo,
            capture_output=True,
            text=True,
        )
        assert res.returncode == 3, res.stdout + res.stderr
        out = json.loads(res.stdout)
        assert out["outcome"] == "lock_timeout"
        assert "refs/heads/main.lock" in out["error"]
        assert f"pid {holder.pid} " in out["error"]
        assert head(repo) == base
        assert git(repo, "ls-files", "-s") == entries  # mine.txt must not be left staged
    finally:
        holder.communicate("abort\n", timeout=30)


# --- the event log -------------------------------------------------------------------------


def test_concurrent_event_appends_never_interleave(tmp_path: Path) -> None:
    state_dir, go = tmp_path / "wt", tmp_path / "go"
    writers, count, size = 8, 200, 12 * 1024
    cmd = [sys.executable, "-c", APPENDER, os.fspath(state_dir), os.fspath(go)]
    procs = [subprocess.Popen([*cmd, f"writer{n}", str(count), str(size)]) for n in range(writers)]
    go.touch()
    assert run_all(procs) == [0] * writers

    lines = (state_dir / "events.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b""
    seen: dict[str, list[int]] = {}
    for raw in lines[:-1]:
        event = json.loads(raw)
        unit = f"{event['agent']}#{event['seq']};"
        assert event["blob"] == unit * (size // len(unit) + 1)
        assert len(raw) > 8 * 1024
        seen.setdefault(event["agent"], []).append(event["seq"])
    assert seen == {f"writer{n}": list(range(count)) for n in range(writers)}


def test_no_process_starts_under_the_repository_lock(repo: Path, tmp_path: Path) -> None:
    """The fleet-wide critical section starts no process: the ref move's `git update-ref
    --stdin` is already running when the repository lock is taken (it only prepares and
    commits its transaction under it). Paused at the `locked` point, inside the lock."""
    write(repo, "held.txt", "held\n")
    tip = head(repo)
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "WT_FAULT_PAUSE": "locked", "WT_FAULT_DIR": os.fspath(marks)}
    proc = subprocess.Popen(
        [WT_COMMIT, "--json", "-m", "held", "--", "held.txt"],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        give_up = time.monotonic() + 60
        while not (marks / "locked.reached").exists() and proc.poll() is None:
            assert time.monotonic() < give_up, "wt-commit never reached the repository lock"
            time.sleep(0.01)
        assert proc.poll() is None, proc.communicate()
        children = [" ".join(c.cmdline()) for c in psutil.Process(proc.pid).children()]
        assert [c for c in children if "update-ref" in c and "--stdin" in c], children
        assert head(repo) == tip  # nothing moved yet
    finally:
        (marks / "locked.go").touch()
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    assert committed_files(repo) == ["held.txt"]
    assert json.loads(out)["commit"] == head(repo)
