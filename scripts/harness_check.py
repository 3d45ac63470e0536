"""The harness's end-of-run checks: nothing lost, nothing twice, no lock held, fsck and journal.

Every change an agent made carries a unique token. A change reported committed must be added by
exactly one commit of the branches' history; a change written but not reported committed must be
in that history (it landed before its committer died), still on disk in a worktree, or in a
rescue ref (gc saved it before removing the worktree). Anything else is a loss.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN = re.compile(rb"tok-[A-Za-z0-9_.-]+")
# worktree-tools' flock-based locks (never unlinked; free when nobody holds the flock).
WT_LOCK_NAMES = ("wt-worktree.lock", "wt-hooks.lock")


@dataclass
class Ledgers:
    written: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> entry
    reported: dict[str, str | None] = field(default_factory=dict)  # token -> commit
    spawned: int = 0
    killed: Counter[str] = field(default_factory=Counter)
    finished: list[str] = field(default_factory=list)
    torn_lines: int = 0


def read_ledgers(directory: Path) -> Ledgers:
    out = Ledgers()
    for path in sorted(directory.glob("*.jsonl")):
        for raw in path.read_bytes().splitlines():
            try:
                e = json.loads(raw)
            except ValueError:
                out.torn_lines += 1  # the agent was killed in the middle of a write
                continue
            ev = e.get("ev")
            if ev == "written":
                out.written[e["token"]] = {**e, "agent": path.stem}
            elif ev == "committed":
                out.reported[e["token"]] = e.get("commit")
            elif ev == "spawn":
                out.spawned += 1
            elif ev == "killed":
                out.killed[str(e.get("method"))] += 1
            elif ev == "finished":
                out.finished.append(path.stem)
    return out


def git(repo: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True)


def history_counts(repo: Path, env: dict[str, str]) -> Counter[bytes]:
    """token -> number of commits (reachable from any branch) whose diff adds it."""
    out = git(
        repo, "log", "--branches", "--no-merges", "--format=@@commit %H", "-p", "--no-renames",
        "--no-color", "-U0", "--no-ext-diff", env=env,
    ).stdout  # fmt: skip
    counts: Counter[bytes] = Counter()
    seen: set[bytes] = set()
    for line in out.splitlines():
        if line.startswith(b"@@commit "):
            counts.update(seen)
            seen = set()
        elif line.startswith(b"+") and not line.startswith(b"+++"):
            seen.update(TOKEN.findall(line))
    counts.update(seen)
    return counts


def worktree_tokens(repo: Path, env: dict[str, str]) -> set[bytes]:
    """Tokens in the files on disk of every worktree (the .git dirs excluded)."""
    listing = git(repo, "worktree", "list", "--porcelain", "-z", env=env).stdout
    found: set[bytes] = set()
    for item in listing.split(b"\0"):
        if not item.startswith(b"worktree "):
            continue
        top = Path(os.fsdecode(item[len(b"worktree ") :]))
        for dirpath, dirnames, filenames in os.walk(top):
            if ".git" in dirnames:
                dirnames.remove(".git")
            for name in filenames:
                if name == ".git":
                    continue
                with contextlib.suppress(OSError):
                    found.update(TOKEN.findall((Path(dirpath) / name).read_bytes()))
    return found


def rescue_tokens(repo: Path, env: dict[str, str]) -> tuple[set[bytes], int]:
    """Tokens in every rescue commit's tree and in its saved index (its second parent)."""
    refs = git(repo, "for-each-ref", "--format=%(objectname)", "refs/wt/rescue/", env=env)
    found: set[bytes] = set()
    commits = refs.stdout.decode().split()
    for oid in commits:
        revs = [oid]
        if git(repo, "rev-parse", "-q", "--verify", f"{oid}^2", env=env).returncode == 0:
            revs.append(f"{oid}^2")
        res = git(repo, "grep", "-h", "-o", "-a", "-E", TOKEN.pattern.decode(), *revs, env=env)
        found.update(TOKEN.findall(res.stdout))
    return found, len(commits)


@dataclass
class Losses:
    checked: int = 0
    reported_committed: int = 0
    landed_unreported: int = 0
    in_worktree: int = 0
    in_rescue: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    rescue_refs: int = 0


def check_changes(repo: Path, ledgers: Ledgers, env: dict[str, str]) -> Losses:
    counts = history_counts(repo, env)
    on_disk = worktree_tokens(repo, env)
    rescued, n_rescues = rescue_tokens(repo, env)
    res = Losses(rescue_refs=n_rescues)
    for token, entry in sorted(ledgers.written.items()):
        res.checked += 1
        t = token.encode()
        n = counts.get(t, 0)
        where = f"{token} ({entry['agent']} op {entry['op']}, {entry['kind']})"
        if token in ledgers.reported:
            res.reported_committed += 1
            if n == 0:
                res.lost.append(f"{where}: reported committed, not in any branch")
            elif n > 1:
                res.duplicated.append(f"{where}: in {n} commits")
            continue
        if n > 1:
            res.duplicated.append(f"{where}: in {n} commits")
        if n >= 1:
            res.landed_unreported += 1
        elif t in on_disk:
            res.in_worktree += 1
        elif t in rescued:
            res.in_rescue += 1
        else:
            res.lost.append(f"{where}: written, not committed, in no worktree and no rescue")
    return res


def git_dirs(common: Path) -> list[Path]:
    dirs = [common]
    admin = common / "worktrees"
    if admin.is_dir():
        dirs += sorted(p for p in admin.iterdir() if p.is_dir())
    return dirs


def locks_left(common: Path) -> tuple[list[str], list[str]]:
    """(git lock files left, worktree-tools flocks still held)."""
    git_locks: list[str] = []
    for d in git_dirs(common):
        for p in d.glob("*.lock"):
            if p.name not in WT_LOCK_NAMES:
                git_locks.append(os.fspath(p))
    for name in ("refs", "logs"):
        git_locks += [os.fspath(p) for p in (common / name).rglob("*.lock")]
    flocks = [d / n for d in git_dirs(common) for n in WT_LOCK_NAMES if (d / n).exists()]
    state = common / "wt"
    flocks += list(state.glob("*.lock"))
    for sub in state.iterdir() if state.is_dir() else []:
        if sub.is_dir() and sub.name not in ("trees", "hook-worktrees", "worktrees"):
            flocks += list(sub.glob("*.lock"))
    held: list[str] = []
    for lock in flocks:
        fd = os.open(lock, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BlockingIOError:
            held.append(os.fspath(lock))
        finally:
            os.close(fd)
    return sorted(git_locks), held


def fsck(repo: Path, env: dict[str, str]) -> tuple[bool, str]:
    res = git(repo, "fsck", "--no-dangling", "--no-progress", "--strict", env=env)
    text = (res.stdout + res.stderr).decode(errors="replace").strip()
    return res.returncode == 0 and not text, text[:2000]


def journal_verify(repo: Path, git_wt: str, env: dict[str, str]) -> dict[str, str]:
    """Each branch's whole history against the journal rules: branch -> problem (none: ok)."""
    refs = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/", env=env)
    bad: dict[str, str] = {}
    for branch in refs.stdout.decode().split():
        res = subprocess.run(
            [git_wt, "journal", "verify", "--json", "--no-checkpoint", branch],
            cwd=repo, env=env, capture_output=True, text=True,
        )  # fmt: skip
        if res.returncode != 0:
            bad[branch] = (res.stdout + res.stderr)[-500:]
    return bad
