"""Hook benchmark: commit latency with husky + lint-staged + prettier on a project with a real
`node_modules` (installed by npm), wt-commit with the hooks in an isolated checkout beside
wt-commit with the hooks in place and beside a plain `git commit` (through the installed shims,
and without them). Every commit changes one small unformatted file that prettier fixes.

    python scripts/bench_hooks.py            # 8 rounds
    python scripts/bench_hooks.py --quick    # 3 rounds
    python scripts/bench_hooks.py --json     # the figures as one JSON object

`run(quick=...)` returns a dict shaped like scripts/bench's Section. The kinds are taken
round-robin, so the noise of a shared machine hits them alike: quote the ratios. npm needs the
registry (or a warm cache: $WT_TEST_NPM_CACHE/npm-cache, as the tests use, is reused).
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
from _scratch import GIT_WT, WT_COMMIT, git, hermetic_env

PACKAGES = ("husky@9.1.7", "lint-staged@16.4.0", "prettier@3.10.1")
KINDS = ("isolated", "in-place", "plain-shim", "plain-no-shim")


def _project(path: Path, env: dict[str, str], files: int) -> dict[str, Any]:
    path.mkdir(parents=True)
    git(path, "init", "-q", env=env)
    package = {"name": "bench", "private": True, "lint-staged": {"*.js": "prettier --write"}}
    (path / "package.json").write_text(json.dumps(package))
    (path / ".gitignore").write_text("node_modules\n")
    for i in range(files):
        (path / "src").mkdir(exist_ok=True)
        (path / "src" / f"m{i}.js").write_text(f"export const m{i} = {i};\n")
    npm_env = dict(env)
    cache = os.environ.get("WT_TEST_NPM_CACHE")
    if cache:
        npm_env["npm_config_cache"] = os.path.join(cache, "npm-cache")
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed: the hook benchmark needs node and npm")
    start = time.perf_counter()
    subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES],
                   cwd=path, env=npm_env, check=True, capture_output=True)  # fmt: skip
    install_s = time.perf_counter() - start
    subprocess.run([os.fspath(path / "node_modules/.bin/husky")], cwd=path, env=env, check=True,
                   capture_output=True)  # fmt: skip
    (path / ".husky/pre-commit").write_text("lint-staged\n")
    git(path, "add", "-A", env=env)
    git(path, "commit", "-qm", "project", "--no-verify", env=env)
    count = sum(len(f) for _, _, f in os.walk(path / "node_modules"))
    return {"node_modules_files": count, "npm_install_s": round(install_s, 1)}


def _shims(path: Path, env: dict[str, str], on: bool) -> None:
    cmd = "install" if on else "uninstall"
    subprocess.run([GIT_WT, "hooks", cmd], cwd=path, env=env, check=True, capture_output=True)


def _commit(kind: str, path: Path, env: dict[str, str], n: int) -> float:
    rel = f"src/new{n}.js"
    (path / rel).write_text(f"export   const  n{n}={n}\n")  # prettier has something to fix
    if kind.startswith("plain"):
        git(path, "add", rel, env=env)
        argv = ["git", "commit", "-qm", f"{kind} {n}", "--", rel]
    else:
        argv = [WT_COMMIT, "--hooks", kind, "-m", f"{kind} {n}", "--", rel]
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=path, env=env, capture_output=True, text=True)
    wall = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        raise RuntimeError(f"{kind}: {' '.join(argv)} exited {proc.returncode}: {proc.stderr}")
    committed = git(path, "show", f"HEAD:{rel}", env=env)
    if committed != f"export const n{n} = {n};\n":
        raise RuntimeError(f"{kind}: prettier's fix is not in the commit: {committed!r}")
    return wall


def run(quick: bool = False, root: Path | None = None) -> dict[str, Any]:
    rounds = 3 if quick else 8
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        base = Path(tmp)
        env = hermetic_env(base / "home")
        repo = base / "project"
        info = _project(repo, env, files=50 if quick else 500)
        _shims(repo, env, on=True)
        times: dict[str, list[float]] = {k: [] for k in KINDS}
        n = 0
        for kind in ("isolated", "in-place"):  # warm-up: the checkout, its dependency mirror
            n += 1
            _commit(kind, repo, env, n)
        for r in range(rounds):
            order = KINDS[r % len(KINDS) :] + KINDS[: r % len(KINDS)]
            for kind in order:
                n += 1
                _shims(repo, env, on=kind != "plain-no-shim")
                times[kind].append(_commit(kind, repo, env, n))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["isolated"] / med["in-place"]
    rows = [[k, f"{med[k]:.0f}", f"{min(times[k]):.0f}", f"{med[k] / med['in-place']:.2f}"]
            for k in KINDS]  # fmt: skip
    return {
        "name": "hooks",
        "title": "Hooks: husky + lint-staged + prettier, isolated vs in place vs plain git commit",
        "columns": ["commit", "median ms", "min ms", "x in-place"],
        "rows": rows,
        "figures": {"median_ms": med, "rounds": rounds, **info},
        "targets": [
            {
                "name": "isolated / in-place (median)",
                "value": ratio,
                "unit": "x",
                "op": "<=",
                "limit": 1.5,
            }
        ],
        "notes": [
            f"a real node_modules of {info['node_modules_files']} files (npm install "
            f"{' '.join(PACKAGES)}); the isolated checkout sees it through a read-only mirror "
            "built once (the warm-up commit)",
            "plain-shim: `git commit -- PATH` through the worktree-tools shim (hook lock, "
            "journal check); plain-no-shim: the same without the shims",
        ],
    }


def main(argv: list[str] | None = None) -> int:
    return bench_main("bench_hooks", __doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
