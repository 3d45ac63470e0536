"""Real JavaScript tools for tests, installed from the npm registry once per checkout.

The packages land in `.venv/wt-test-npm/<key>/node_modules` (beside the test venv, git-ignored,
shared by every test and every concurrent pytest run through a file lock). A test links them into
its repository with `link_node_modules`. When npm or the registry cannot be reached, the test is
skipped with the reason; it never passes silently.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("WT_TEST_NPM_CACHE", ROOT / ".venv" / "wt-test-npm"))

# The versions the tests pin (RACES.md facts were checked against these lines).
HUSKY = "husky@9.1.7"
LINT_STAGED = "lint-staged@16.4.0"
LEFTHOOK = "lefthook@2.2.2"
LEFTHOOK_OLD = "lefthook@2.1.17"  # kept its partial-staging patch in the shared git dir
PRETTIER = "prettier@3.10.1"
SIMPLE_GIT_HOOKS = "simple-git-hooks@2.14.0"
JEST = "jest@30.5.2"
# One install every test can share (a single download into the shared cache).
COMMON = (HUSKY, LINT_STAGED, LEFTHOOK, PRETTIER, SIMPLE_GIT_HOOKS, JEST)


def npm_tools(*specs: str) -> Path:
    """A directory whose `node_modules` holds exactly `specs` (name@version), installed once."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the npm-based hook tests need node and npm")
    # --ignore-scripts: lefthook's and simple-git-hooks' install scripts would install hooks
    # into whatever repository encloses the cache (this checkout); tests install them in theirs.
    args = ["--no-audit", "--no-fund", "--loglevel=error", "--ignore-scripts"]
    key = hashlib.sha256("\n".join([*args, *sorted(specs)]).encode()).hexdigest()[:16]
    target = CACHE / key
    CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(os.fspath(CACHE / f"{key}.lock")):
        if (target / ".installed").exists():
            return target
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        (target / "package.json").write_text('{"name": "wt-test-tools", "private": true}\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env["npm_config_cache"] = os.fspath(CACHE / "npm-cache")
        proc = subprocess.run(
            [npm, "install", *args, *specs],
            cwd=target,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        if proc.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            pytest.skip(
                f"npm install {' '.join(specs)} failed (registry unreachable?):\n"
                f"{proc.stderr[-2000:]}"
            )
        (target / ".installed").write_text("ok\n")
    return target


def link_node_modules(repo: Path, *specs: str) -> Path:
    """Make `repo/node_modules` a link to an installed set of packages; return the .bin dir."""
    tools = npm_tools(*specs)
    link = repo / "node_modules"
    if not link.exists():
        link.symlink_to(tools / "node_modules", target_is_directory=True)
    return link / ".bin"
