"""Environment benchmark: `git wt alloc` of a repository whose `.worktreeinclude` lists a 200 MB
`node_modules`, with `wt.include.mode` link, reflink and copy, beside `git worktree add` alone
(which brings no node_modules at all) and `git wt alloc` without the include.

    python scripts/bench_env.py            # 200 MB node_modules, 10,000 tracked files
    python scripts/bench_env.py --quick    # a smoke run (20 MB, 1,000 files)
    python scripts/bench_env.py --json     # the figures as one JSON object

The kinds are taken round-robin, so the noise of a shared machine hits all alike: quote the
ratios, not the milliseconds. `reflink` falls back to a copy on filesystems without
copy-on-write clones (ext4); the row says which method was used.
"""

from __future__ import annotations

import json
import os
import shutil
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

KINDS = ("plain", "alloc", "link", "reflink", "copy")
LABELS = {
    "plain": "git worktree add (no node_modules)",
    "alloc": "git wt alloc, no .worktreeinclude",
    "link": "git wt alloc, wt.include.mode link",
    "reflink": "git wt alloc, wt.include.mode reflink",
    "copy": "git wt alloc, wt.include.mode copy",
}


def _project(path: Path, files: int, modules_mb: int, env: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", env=env)
    for i in range(files):
        sub = path / "src" / f"d{i % 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i:05d}.js").write_text(f"export const v{i} = {i};\n" * 4)
    (path / ".gitignore").write_text("node_modules/\n")
    (path / ".worktreeinclude").write_text("node_modules/\n")
    git(path, "add", "-A", env=env)
    git(path, "commit", "-q", "-m", "initial", env=env)
    # A node_modules shaped like a real one: many packages, many small files, some big ones.
    chunk = os.urandom(1 << 16)
    written, n = 0, 0
    target = modules_mb << 20
    while written < target:
        pkg = path / "node_modules" / f"pkg{n // 20:04d}" / ("lib" if n % 3 else "dist")
        pkg.mkdir(parents=True, exist_ok=True)
        size = (1 << 20) if n % 97 == 0 else 16_000 + (n % 7) * 4_000
        data = (chunk * (size // len(chunk) + 1))[:size]
        (pkg / f"m{n:05d}.js").write_bytes(data)
        written += size
        n += 1
    bin_dir = path / "node_modules" / ".bin"
    bin_dir.mkdir()
    (bin_dir / "tool").symlink_to("../pkg0000/lib/m00001.js")
    return path


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    wall = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr}")
    return wall, proc.stdout


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def run(quick: bool = False, root: Path | None = None) -> dict[str, Any]:
    files, modules_mb, rounds = (1_000, 20, 2) if quick else (10_000, 200, 3)
    walls: dict[str, list[float]] = {k: [] for k in KINDS}
    methods: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-env-", dir=root) as tmp:
        base = Path(tmp)
        env = hermetic_env(base / "home")
        repo = _project(base / "repo", files, modules_mb, env)
        count = sum(len(f) for _, _, f in os.walk(repo / "node_modules"))
        for i in range(rounds):
            for kind in KINDS[i % len(KINDS) :] + KINDS[: i % len(KINDS)]:
                dest = base / "trees" / f"{kind}{i}"
                if kind == "plain":
                    argv = ["git", "worktree", "add", "-q", "-b", f"p{i}", str(dest), "HEAD"]
                else:
                    mode = "auto" if kind == "alloc" else kind
                    git(repo, "config", "wt.include.mode", mode, env=env)
                    if kind == "alloc":
                        (repo / ".worktreeinclude").rename(repo / ".worktreeinclude.off")
                    argv = [GIT_WT, "alloc", f"{kind}{i}", "--owner-pid", "0", "--path",
                            str(dest), "--json"]  # fmt: skip
                os.sync()  # the last copy's writeback must not slow the next measurement
                try:
                    wall, out = _timed(argv, repo, env)
                finally:
                    if kind == "alloc":
                        (repo / ".worktreeinclude.off").rename(repo / ".worktreeinclude")
                walls[kind].append(wall)
                if kind not in ("plain", "alloc"):
                    methods[kind] = json.loads(out)["env"]["include"]["methods"]
                shutil.rmtree(dest)  # keep the disk use of copies bounded
    med = {k: statistics.median(v) for k, v in walls.items()}
    ratios = {k: round(med[k] / med["plain"], 2) for k in KINDS if k != "plain"}
    rows = [
        [LABELS[k], f"{_stats(walls[k])['median']}", f"{_stats(walls[k])['min']}",
         f"{_stats(walls[k])['max']}", "1.00" if k == "plain" else f"{ratios[k]}"]
        for k in KINDS
    ]  # fmt: skip
    return {
        "name": "env",
        "title": f"Worktree environments: alloc with a {modules_mb} MB node_modules",
        "columns": ["operation", "median ms", "min ms", "max ms", "x git worktree add"],
        "rows": rows,
        "figures": {
            "files": files,
            "node_modules_mb": modules_mb,
            "node_modules_files": count,
            "ms": {k: _stats(v) for k, v in walls.items()},
            "ratio_median": ratios,
            "methods": methods,
            "quick": quick,
        },
        "targets": [
            {
                "name": "alloc link / git worktree add (median)",
                "value": ratios["link"],
                "unit": "x",
                "op": "<=",
                "limit": 1.5,
            },
            {
                "name": "alloc reflink / git worktree add (median)",
                "value": ratios["reflink"],
                "unit": "x",
            },
            {
                "name": "alloc copy / git worktree add (median)",
                "value": ratios["copy"],
                "unit": "x",
            },
        ],
        "notes": [
            f"{files:,} tracked files; node_modules: {count:,} files, {modules_mb} MB; "
            f"methods used: {methods}",
            "git worktree add brings no node_modules: the agent would still have to install "
            "them (npm ci), which is what the include replaces",
        ],
    }


def main(argv: list[str] | None = None) -> int:
    return bench_main("bench_env", __doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
