"""Worktree benchmark: `git wt alloc` beside plain `git worktree add` on a repository of 10,000
files, and `git wt gc` over 50 worktrees (dead, done, dirty and with unmerged commits).

    python scripts/bench_worktrees.py            # the full size
    python scripts/bench_worktrees.py --quick    # a smoke run (1,000 files, 10 worktrees)
    python scripts/bench_worktrees.py --json     # the figures as one JSON object

`run(quick=...)` returns the figures as a dict shaped like scripts/bench's Section (name, title,
columns, rows, figures, notes), for scripts/bench. Allocs and plain adds are taken round-robin,
so the noise of a shared machine hits both alike: quote the ratio, not the milliseconds.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _benchmain import bench_main
from _scratch import GIT_WT, git, hermetic_env


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    wall = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr}")
    return wall, proc.stdout


def _big_repo(path: Path, files: int, env: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", env=env)
    for i in range(files):
        sub = path / f"d{i % 100:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{i:05d}.txt").write_text(f"file {i}\n" * 4)
    git(path, "add", "-A", env=env)
    git(path, "commit", "-q", "-m", "initial", env=env)
    return path


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def bench_alloc(root: Path, env: dict[str, str], files: int, rounds: int) -> dict[str, Any]:
    repo = _big_repo(root / "alloc", files, env)
    plain: list[float] = []
    alloc: list[float] = []
    for i in range(rounds):
        # alternate which goes first, so neither always meets a warm cache
        order = ["plain", "alloc"] if i % 2 == 0 else ["alloc", "plain"]
        for kind in order:
            if kind == "plain":
                target = root / "plain" / f"p{i}"
                wall, _ = _timed(
                    ["git", "worktree", "add", "-q", "-b", f"plain/{i}", str(target), "HEAD"],
                    repo,
                    env,
                )
                plain.append(wall)
            else:
                wall, _ = _timed([GIT_WT, "alloc", f"bench{i}", "--owner-pid", "0"], repo, env)
                alloc.append(wall)
    again, _ = _timed([GIT_WT, "alloc", "bench0", "--owner-pid", "0"], repo, env)
    return {
        "files": files,
        "plain_add_ms": _stats(plain),
        "alloc_ms": _stats(alloc),
        "alloc_again_ms": round(again, 1),
        "ratio_median": round(statistics.median(alloc) / statistics.median(plain), 2),
    }


def bench_gc(root: Path, env: dict[str, str], worktrees: int) -> dict[str, Any]:
    repo = _big_repo(root / "gc", 200, env)
    at_risk = 0
    for i in range(worktrees):
        _, out = _timed([GIT_WT, "alloc", f"g{i}", "--owner-pid", "0"], repo, env)
        path = Path(out.strip())
        kind = i % 4  # clean, dirty (tracked + untracked + binary), unmerged commit, hidden
        if kind == 3:
            # an edit git status does not show: the flag hides it, gc must still save it
            (path / "d01" / "f00001.txt").write_text("hidden edit\n")
            git(path, "update-index", "--assume-unchanged", "d01/f00001.txt", env=env)
            at_risk += 1
        if kind == 1:
            (path / "d00" / "f00000.txt").write_text("changed\n")
            (path / "new.bin").write_bytes(bytes(range(256)) * 4)
            at_risk += 1
        elif kind == 2:
            (path / "feature.txt").write_text(f"feature {i}\n")
            git(path, "add", "feature.txt", env=env)
            git(path, "commit", "-q", "-m", f"feature {i}", env=env)
            at_risk += 1
        _timed([GIT_WT, "release", f"g{i}", "--state", "done"], repo, env)
    wall, out = _timed([GIT_WT, "gc", "--json"], repo, env)
    plain = _plain_remove(root, env, worktrees)
    result = json.loads(out)
    removed = sum(1 for item in result["worktrees"] if item["action"] == "removed")
    rescued = sum(1 for item in result["worktrees"] if item["rescue"])
    return {
        "worktrees": worktrees,
        "gc_ms": round(wall, 1),
        "per_worktree_ms": round(wall / worktrees, 1),
        "plain_remove_ms": round(plain, 1),
        "ratio_over_plain_remove": round(wall / plain, 2),
        "removed": removed,
        "rescued": rescued,
        "at_risk": at_risk,
        "lost": at_risk - rescued,
    }


def _plain_remove(root: Path, env: dict[str, str], worktrees: int) -> float:
    """The usual cleanup, for scale: `git worktree remove --force` of as many dirty
    worktrees (it saves nothing)."""
    repo = _big_repo(root / "plain-rm", 200, env)
    paths = []
    for i in range(worktrees):
        path = root / "plain-rm-trees" / f"p{i}"
        git(repo, "worktree", "add", "-q", "-b", f"p{i}", str(path), "HEAD", env=env)
        (path / "d00" / "f00000.txt").write_text("changed\n")
        paths.append(path)
    start = time.perf_counter()
    for path in paths:
        git(repo, "worktree", "remove", "--force", str(path), env=env)
    return (time.perf_counter() - start) * 1000


def run(quick: bool = False, root: Path | None = None) -> dict[str, Any]:
    """Take the measurements in a throwaway directory; return a Section-shaped dict."""
    files, rounds, worktrees = (1_000, 3, 10) if quick else (10_000, 5, 50)
    with tempfile.TemporaryDirectory(prefix="bench-wt-", dir=root) as tmp:
        base = Path(tmp)
        env = hermetic_env(base / "home")
        alloc = bench_alloc(base, env, files, rounds)
        gc = bench_gc(base, env, worktrees)
    a, p = alloc["alloc_ms"], alloc["plain_add_ms"]
    rows = [
        [f"git worktree add ({files:,} files)", f"{p['median']}", f"{p['min']}", f"{p['max']}"],
        [f"git wt alloc ({files:,} files)", f"{a['median']}", f"{a['min']}", f"{a['max']}"],
        ["git wt alloc, existing (idempotent)", f"{alloc['alloc_again_ms']}", "", ""],
        [
            f"git wt gc, {worktrees} worktrees ({gc['rescued']} rescued)",
            f"{gc['gc_ms']}",
            "",
            "",
        ],
    ]
    return {
        "name": "worktrees",
        "title": "Per-agent worktrees: alloc beside git worktree add; gc",
        "columns": ["operation", "median ms", "min ms", "max ms"],
        "rows": rows,
        "figures": {"alloc": alloc, "gc": gc, "quick": quick},
        "notes": [
            f"alloc/add median ratio {alloc['ratio_median']}x: alloc adds a locked worktree, "
            "the ownership record, the event and one Python start-up",
            f"gc: {gc['per_worktree_ms']} ms per worktree; work at risk {gc['at_risk']} (a "
            f"quarter hidden by --assume-unchanged), rescued {gc['rescued']}, lost {gc['lost']} "
            f"(must be 0); {gc['ratio_over_plain_remove']}x the time of `git worktree remove "
            "--force`, which saves nothing",
        ],
    }


def main(argv: list[str] | None = None) -> int:
    def lost(section: dict[str, Any]) -> list[str]:
        gc = section["figures"]["gc"]
        return [f"gc lost the work of {gc['lost']} worktree(s)"] if gc["lost"] else []

    return bench_main("bench_worktrees", __doc__, run, argv, failed=lost)


if __name__ == "__main__":
    sys.exit(main())
