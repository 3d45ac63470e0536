"""What wt-commit's hot path imports: two plain commits (one with --json) in a scratch
repository, each run in a fresh interpreter, then each project module they loaded imported alone
in another. Prints, per module, the expensive modules (HEAVY) importing it pulls in; exit 1
if any does.

    python scripts/hot_imports.py          # the report
    python scripts/hot_imports.py --json   # {module: [heavy modules it imports]}
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any

# Standard-library and third-party modules a plain commit must not import: each costs 1-20 ms
# of CPU at start-up (measured on the 2-core bench machine; see docs/hot-path.md).
HEAVY = (
    "typing", "dataclasses", "pathlib", "enum", "re", "json", "subprocess", "shlex",
    "contextlib", "functools", "collections", "datetime", "signal", "inspect", "threading",
    "locale", "tempfile", "shutil", "urllib", "ipaddress", "ast", "tokenize", "selectors",
    "click", "filelock", "pygit2", "psutil", "hashlib", "ctypes", "weakref",
)  # fmt: skip

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com",
    "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}  # fmt: skip


def loaded_by_commit(repo: str, argv: list[str]) -> list[str]:
    """Every module `wt-commit ARGV` has loaded when it exits."""
    code = (
        "import sys, atexit\n"  # atexit is built in: the harness itself loads nothing heavy
        "atexit.register(lambda: print(' '.join(sorted(sys.modules)), file=sys.stderr))\n"
        f"sys.argv = {['wt-commit', *argv]!r}\n"
        "from worktree_tools.cli import wt_commit_main\n"
        "wt_commit_main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=ENV, capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(f"wt-commit failed: {proc.stderr}")
    return proc.stderr.strip().splitlines()[-1].split()


def heavy_of(module: str) -> list[str]:
    code = f"import sys\nimport {module}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True)
    return proc.stdout.split() if proc.returncode == 0 else [f"<import failed: {proc.stderr}>"]


def measure() -> dict[str, Any]:
    """{"whole_run": [heavy modules], "modules": {project module: [heavy modules importing it
    alone pulls in]}} for two plain commits in a scratch repository, one with --json (also
    scripts/bench's)."""
    with tempfile.TemporaryDirectory() as repo:
        git = ["git", "-C", repo]
        subprocess.run([*git, "init", "-q"], check=True, env=ENV)
        for i in range(3):
            with open(os.path.join(repo, f"f{i}.txt"), "w") as f:
                f.write(f"{i}\n")
        subprocess.run([*git, "add", "."], check=True, env=ENV)
        subprocess.run([*git, "commit", "-qm", "init"], check=True, env=ENV)
        modules: set[str] = set()
        # a new file as a person commits it, then a tracked one in a directory as agents and
        # scripts/bench do (--json, --agent)
        for rel, argv in (
            ("a.txt", ["-m", "x", "a.txt"]),
            ("f1.txt", ["--json", "--agent", "bench", "-m", "y", "--", "f1.txt"]),
        ):
            with open(os.path.join(repo, rel), "a") as f:
                f.write("a\n")
            modules.update(loaded_by_commit(repo, argv))
    ours = sorted(m for m in modules if m.startswith("worktree_tools"))
    return {
        "whole_run": sorted(m for m in HEAVY if m in modules),
        "modules": {m: heavy_of(m) for m in ours},
    }


def main() -> int:
    found = measure()
    whole, report = found["whole_run"], found["modules"]
    if "--json" in sys.argv:
        print(json.dumps(found, indent=2))
    else:
        print(
            f"a plain commit loads {len(report)} project modules; heavy: {' '.join(whole) or '-'}"
        )
        for m, heavy in report.items():
            print(f"  {m}: {' '.join(heavy) or 'lean'}")
    return 1 if whole else 0


if __name__ == "__main__":
    sys.exit(main())
