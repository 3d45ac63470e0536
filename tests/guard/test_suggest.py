"""Refusals that tell the agent what to run: the worktree's actual changed paths."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from conftest import git, head, write, wt_commit


def test_no_paths_refusal_names_the_changed_paths(repo: Path) -> None:
    write(repo, "src/app.py", "print('v2')\n")
    write(repo, "src/lib/util.py", "u\n")
    git(repo, "add", "src/lib/util.py")
    write(repo, "stray.log", "untracked, not suggested\n")
    res = wt_commit(repo, "-m", "fix the parser", "--json")
    assert res.returncode == 2
    out = json.loads(res.stdout)
    assert out["fix"] == "wt-commit -m 'fix the parser' -- src/app.py src/lib/util.py"
    assert out["changed_paths"] == ["src/app.py", "src/lib/util.py"]
    before = head(repo)
    argv = shlex.split(out["fix"])  # the fix runs as it stands
    rerun = wt_commit(repo, *argv[1:])
    assert rerun.returncode == 0, rerun.stderr
    assert head(repo) != before


def test_whole_tree_refusal_from_a_subdirectory_is_relative_to_it(repo: Path) -> None:
    write(repo, "src/app.py", "print('v3')\n")
    write(repo, "README", "changed\n")
    res = wt_commit(repo / "src", "-m", "m", "--", "..")
    assert res.returncode == 2
    assert "wt-commit: fix: wt-commit -m m -- ../README app.py" in res.stderr


def test_nothing_changed_says_so(repo: Path) -> None:
    res = wt_commit(repo, "-m", "m", "--json")
    assert res.returncode == 2
    assert "nothing is changed" in json.loads(res.stdout)["fix"]


def test_ignored_path_message_has_no_use_f_hint(repo: Path) -> None:
    write(repo, ".gitignore", "*.log\n")
    write(repo, "debug.log", "x\n")
    res = wt_commit(repo, "-m", "m", "--", "debug.log")
    assert res.returncode == 2
    assert "debug.log" in res.stderr and "ignored" in res.stderr
    assert "hint" not in res.stderr and "-f" not in res.stderr
