"""Guard benchmark: what the reference-transaction shim costs where it has nothing to decide.

git runs the hook for every ref transaction; `git fetch` (git 2.39) runs one transaction per
updated ref, so a fetch of 1,000 new refs runs the hook 2,000 times (prepared + committed). Three
setups are measured round-robin in one run:

  none    no reference-transaction hook
  empty   `#!/bin/sh` + `exit 0`: the floor git itself imposes on any hook at all
  shim    worktree-tools' shim (as `git wt hooks install` writes it), run as an agent
          (WT_AGENT set): refs/remotes and tags are nothing to decide, so no Python starts

on a `git fetch` of 1,000 refs and on 100 `git update-ref` calls (tags). Quote the ratios.

    python scripts/bench_guard.py [--quick]

`run(...)` returns a Section-shaped dict for scripts/bench.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "scripts"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from _scratch import git, hermetic_env  # noqa: E402

from worktree_tools.hooks.shimtext import shim_text  # noqa: E402

SETUPS = ("none", "empty", "shim")
HOOK = "reference-transaction"


def _dest(path: Path, setup: str, env: dict[str, str]) -> Path:
    subprocess.run(["git", "init", "-q", os.fspath(path)], env=env, check=True)
    hook = path / ".git" / "hooks" / HOOK
    if setup == "empty":
        hook.write_text("#!/bin/sh\nexit 0\n")
    elif setup == "shim":
        hook.write_text(shim_text(HOOK))
    if setup != "none":
        hook.chmod(0o755)
    return path


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def run(
    quick: bool = False, root: Path | None = None, refs: int = 1000, updates: int = 100
) -> dict[str, Any]:
    rounds = 2 if quick else 5
    if quick:  # a smoke run: the ratios hold at any size, the per-ref cost is what differs
        refs, updates = min(refs, 200), min(updates, 20)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        base = Path(tmp)
        env = hermetic_env(base / "home")
        env["WT_AGENT"] = "bench"  # the agent path: still nothing to decide here
        src = base / "src"
        subprocess.run(["git", "init", "-q", os.fspath(src)], env=env, check=True)
        git(src, "commit", "-q", "--allow-empty", "-m", "one", env=env)
        lines = "".join(f"create refs/heads/b{i:04d} HEAD\n" for i in range(refs))
        subprocess.run(["git", "update-ref", "--stdin"], cwd=src, input=lines, text=True,
                       env=env, check=True)  # fmt: skip
        fetch: dict[str, list[float]] = {s: [] for s in SETUPS}
        update: dict[str, list[float]] = {s: [] for s in SETUPS}
        for r in range(rounds):
            order = SETUPS[r % 3 :] + SETUPS[: r % 3]
            for setup in order:
                dest = _dest(base / f"f-{setup}-{r}", setup, env)
                fetch[setup].append(_timed(
                    ["git", "fetch", "-q", os.fspath(src), "+refs/heads/*:refs/remotes/o/*"],
                    dest, env,
                ))  # fmt: skip
            for setup in order:
                dest = _dest(base / f"u-{setup}-{r}", setup, env)
                person = {k: v for k, v in env.items() if k != "WT_AGENT"}
                git(dest, "commit", "-q", "--allow-empty", "-m", "one", env=person)
                start = time.perf_counter()
                for i in range(updates):
                    subprocess.run(["git", "update-ref", f"refs/tags/t{i}", "HEAD"], cwd=dest,
                                   env=env, check=True)  # fmt: skip
                update[setup].append(time.perf_counter() - start)
    med = {k: {s: statistics.median(v[s]) for s in SETUPS} for k, v in
           (("fetch", fetch), ("update_ref", update))}  # fmt: skip
    figures: dict[str, Any] = {"refs": refs, "updates": updates, "rounds": rounds, "median_s": med}
    for k in ("fetch", "update_ref"):
        figures[f"{k}_shim_vs_none"] = med[k]["shim"] / med[k]["none"]
        figures[f"{k}_shim_vs_empty"] = med[k]["shim"] / med[k]["empty"]
        figures[f"{k}_empty_vs_none"] = med[k]["empty"] / med[k]["none"]
    rows = [
        [f"git fetch of {refs:,} new refs", *(f"{med['fetch'][s]:.3f}" for s in SETUPS),
         f"{figures['fetch_shim_vs_none']:.2f}x", f"{figures['fetch_shim_vs_empty']:.2f}x"],
        [f"{updates} x git update-ref (tags)", *(f"{med['update_ref'][s]:.3f}" for s in SETUPS),
         f"{figures['update_ref_shim_vs_none']:.2f}x",
         f"{figures['update_ref_shim_vs_empty']:.2f}x"],
    ]  # fmt: skip
    return {
        "name": "guard",
        "title": "reference-transaction shim where there is nothing to decide",
        "columns": ["operation", "no hook s", "empty hook s", "shim s", "shim/none", "shim/empty"],
        "rows": rows,
        "figures": figures,
        "targets": [
            {
                "name": "fetch: shim / no hook",
                "value": figures["fetch_shim_vs_none"],
                "unit": "x",
                "op": "<=",
                "limit": 1.2,
            },
            {
                "name": "update-ref: shim / no hook",
                "value": figures["update_ref_shim_vs_none"],
                "unit": "x",
                "op": "<=",
                "limit": 1.2,
            },
            {
                "name": "fetch: shim / empty hook (what the shim itself adds)",
                "value": figures["fetch_shim_vs_empty"],
                "unit": "x",
            },
            {
                "name": "update-ref: shim / empty hook",
                "value": figures["update_ref_shim_vs_empty"],
                "unit": "x",
            },
        ],
        "notes": [
            "git 2.39 runs one ref transaction per fetched ref, so any reference-transaction "
            "hook, even `exit 0`, is spawned twice per ref: the empty-hook column is git's own "
            "floor for having the hook at all; shim/empty is what worktree-tools adds to it.",
            "Run as an agent (WT_AGENT set); no Python starts (remote-tracking refs and tags "
            "are never decided).",
        ],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    data = run(quick=args.quick)
    print(json.dumps(data["figures"], indent=2))
    for row in data["rows"]:
        print("  ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
