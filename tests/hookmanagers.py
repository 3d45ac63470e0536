"""A small JavaScript project with real hook managers from npm (or the pre-commit framework from
PyPI), for the hook tests: one check that refuses any staged `.js` file containing BAD (and can
log its runs and wait on a flag file, to widen race windows), and prettier as the auto-fixer."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import git, write
from npmtools import (
    HUSKY,
    LEFTHOOK,
    LEFTHOOK_OLD,
    LINT_STAGED,
    PRETTIER,
    SIMPLE_GIT_HOOKS,
    link_node_modules,
)

MANAGERS = ("husky", "lefthook", "pre-commit")
SPECS = (HUSKY, LINT_STAGED, LEFTHOOK, PRETTIER, SIMPLE_GIT_HOOKS)

CHECK_JS = r"""
const fs = require('fs');
const log = process.env.HOOK_LOG;
const note = (what) => log && fs.appendFileSync(log, `${what} ${process.pid} ${process.cwd()}\n`);
note('start');
if (log && process.env.HOOK_STASH_SEEN) {
  const seen = require('child_process').execFileSync('git', ['stash', 'list']).toString();
  fs.appendFileSync(process.env.HOOK_STASH_SEEN, seen);
}
const flag = process.env.HOOK_WAIT_FOR;
if (flag) {
  fs.writeFileSync(flag + '.waiting', '');
  while (!fs.existsSync(flag)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
}
const bad = process.argv.slice(2).filter((f) => fs.readFileSync(f, 'utf8').includes('BAD'));
note('end');
if (bad.length) { console.error('check: BAD in ' + bad.join(' ')); process.exit(1); }
"""

LEFTHOOK_YML = """pre-commit:
  commands:
    a-check:
      glob: "*.js"
      run: node check.js {staged_files}
    b-fmt:
      glob: "*.js"
      run: node_modules/.bin/prettier --write {staged_files}
      stage_fixed: true
"""

PRE_COMMIT_YAML = r"""repos:
- repo: local
  hooks:
  - id: check
    name: check
    entry: node check.js
    language: system
    files: \.js$
  - id: fmt
    name: fmt
    entry: node_modules/.bin/prettier --write
    language: system
    files: \.js$
"""


def project(repo: Path, manager: str) -> None:
    """Make `repo` (a fresh repository on main) a project whose pre-commit hook is `manager`'s:
    husky + lint-staged, simple-git-hooks + lint-staged, lefthook (stage_fixed; `lefthook-2.1`:
    the line that kept its partial-staging patch in the shared git dir), or the pre-commit
    framework. Commits the configuration."""
    if manager == "lefthook-2.1":
        link_node_modules(repo, *(LEFTHOOK_OLD if s == LEFTHOOK else s for s in SPECS))
        manager = "lefthook"
    else:
        link_node_modules(repo, *SPECS)
    package: dict[str, object] = {"name": "p", "private": True}
    if manager in ("husky", "simple-git-hooks"):
        package["lint-staged"] = {"*.js": ["node check.js", "prettier --write"]}
    if manager == "simple-git-hooks":
        package["simple-git-hooks"] = {"pre-commit": "npx lint-staged"}
    write(repo, "package.json", json.dumps(package, indent=2) + "\n")
    write(repo, ".gitignore", "node_modules\n")
    write(repo, "check.js", CHECK_JS)
    write(repo, ".prettierrc", "{}\n")
    files = ["package.json", ".gitignore", "check.js", ".prettierrc"]
    if manager == "husky":
        write(repo, ".husky/pre-commit", "lint-staged\n")
        files.append(".husky/pre-commit")
    elif manager == "lefthook":
        write(repo, "lefthook.yml", LEFTHOOK_YML)
        files.append("lefthook.yml")
    elif manager == "pre-commit":
        write(repo, ".pre-commit-config.yaml", PRE_COMMIT_YAML)
        files.append(".pre-commit-config.yaml")
    git(repo, "add", *files)
    git(repo, "commit", "-qm", f"{manager} project")
    reinstall(repo, manager)


def reinstall(repo: Path, manager: str) -> None:
    """What `npm install` (husky's prepare, simple-git-hooks' postinstall), `lefthook install`
    or `pre-commit install` does."""
    manager = manager.removesuffix("-2.1")
    bin_dir = repo / "node_modules/.bin"
    cmd = {
        "husky": [os.fspath(bin_dir / "husky")],
        "simple-git-hooks": [os.fspath(bin_dir / "simple-git-hooks")],
        "lefthook": [os.fspath(bin_dir / "lefthook"), "install"],
        "pre-commit": ["pre-commit", "install"],
    }[manager]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(cmd, cwd=repo, check=True, capture_output=True, env=env)


def log_runs(log: Path) -> list[tuple[str, str]]:
    """(start|end, pid) of each check run, in the order they were written."""
    if not log.exists():
        return []
    return [tuple(line.split()[:2]) for line in log.read_text().splitlines()]  # type: ignore[misc]
