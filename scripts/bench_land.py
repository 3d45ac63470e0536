"""Land-queue benchmark: 16 queued requests with a 1 s check landed one by one and in batches of
4, and the queue's own cost per landing with a no-op check.

    python scripts/bench_land.py            # 16 requests, a 1 s check
    python scripts/bench_land.py --quick    # 8 requests, a 0.2 s check
    python scripts/bench_land.py --json     # the figures as one JSON object

Each run queues the requests without a lander (`wt.land.autostart false`), then times one
`git wt land --run` that lands them all. Lost or duplicated landings are counted (must be 0).
`run(quick=...)` returns a Section-shaped dict for scripts/bench.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _benchmain import bench_main
from _scratch import GIT_WT, git, hermetic_env


def _repo(base: Path, name: str, n: int, env: dict[str, str]) -> Path:
    """A repository whose main has one commit and `n` branches b00.. each adding its own file."""
    repo = base / name
    repo.mkdir(parents=True)
    git(repo, "init", "-q", env=env)
    (repo / "README").write_text("bench\n")
    git(repo, "add", "README", env=env)
    git(repo, "commit", "-qm", "initial", env=env)
    git(repo, "config", "wt.land.autostart", "false", env=env)
    for i in range(n):
        git(repo, "checkout", "-qb", f"b{i:02d}", "main", env=env)
        (repo / f"f{i:02d}.txt").write_text(f"{i}\n")
        git(repo, "add", f"f{i:02d}.txt", env=env)
        git(repo, "commit", "-qm", f"b{i:02d}: work", env=env)
    git(repo, "checkout", "-q", "main", env=env)
    return repo


def _wt(repo: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [GIT_WT, "land", *args, "--json"], cwd=repo, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git wt land {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def _landing(
    base: Path, name: str, n: int, check: str, batch: int, env: dict[str, str]
) -> dict[str, Any]:
    repo = _repo(base, name, n, env)
    for i in range(n):
        _wt(repo, env, f"b{i:02d}", "--into", "main", "--check", check, "--no-wait")
    start = time.perf_counter()
    _wt(repo, env, "--run", "--into", "main", "--batch", str(batch))
    wall = time.perf_counter() - start
    subjects = git(repo, "log", "--format=%s", "main", env=env).splitlines()
    landed = [s for s in subjects if s != "initial"]
    expected = {f"b{i:02d}: work" for i in range(n)}
    events = [json.loads(line) for line in (repo / ".git/wt/events.jsonl").read_text().splitlines()]
    checks = len({e.get("commit") for e in events if e.get("action") == "land"})
    return {
        "wall_s": round(wall, 3),
        "per_landing_ms": round(wall * 1000 / n, 1),
        "lost": len(expected - set(landed)),
        "duplicated": len(landed) - len(set(landed)),
        "swaps": checks,
    }


def run(quick: bool = False, root: Path | None = None) -> dict[str, Any]:
    n, check_s = (8, 0.2) if quick else (16, 1.0)
    with tempfile.TemporaryDirectory(prefix="bench-land-", dir=root) as tmp:
        base = Path(tmp)
        env = hermetic_env(base / "home")
        check = f"sleep {check_s}"
        serial = _landing(base, "serial", n, check, 1, env)
        batched = _landing(base, "batch", n, check, 4, env)
        noop = _landing(base, "noop", n, "true", 1, env)
    ratio = round(serial["wall_s"] / batched["wall_s"], 2)
    lost = serial["lost"] + batched["lost"] + noop["lost"]
    dup = serial["duplicated"] + batched["duplicated"] + noop["duplicated"]
    rows = [
        [
            f"serial, {n} requests, {check_s:g} s check",
            f"{serial['wall_s']}",
            f"{serial['per_landing_ms']}",
        ],
        [
            f"--batch 4, {n} requests, {check_s:g} s check",
            f"{batched['wall_s']}",
            f"{batched['per_landing_ms']}",
        ],
        [
            f"serial, {n} requests, no-op check (`true`)",
            f"{noop['wall_s']}",
            f"{noop['per_landing_ms']}",
        ],
    ]
    return {
        "name": "land",
        "title": f"Land queue: {n} requests, serial vs --batch 4; overhead per landing",
        "columns": ["run", "wall s", "ms per landing"],
        "rows": rows,
        "figures": {
            "serial": serial,
            "batch": batched,
            "noop": noop,
            "ratio": ratio,
            "requests": n,
            "check_s": check_s,
            "quick": quick,
        },
        "targets": [
            {
                "name": "serial / --batch 4 (green queue)",
                "value": ratio,
                "unit": "x",
                "op": ">=",
                "limit": 2.5,
            },
            {
                "name": "queue overhead per landing, no-op check",
                "value": noop["per_landing_ms"],
                "unit": "ms",
                "op": "<",
                "limit": 150.0,
            },
            {
                "name": "landings lost or duplicated",
                "value": lost + dup,
                "unit": "",
                "op": "==",
                "limit": 0,
                "gate": True,
            },
        ],
        "notes": [
            "each run queues the requests first (no lander), then times one `git wt land --run`;"
            " overhead = that wall time / requests with a check that does nothing (integration,"
            " isolated checkout sync, compare-and-swap, request records, events)",
        ],
    }


def main(argv: list[str] | None = None) -> int:
    return bench_main("bench_land", __doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
