"""The isolated hook checkout: outside every .git directory, with a private stash, the project's
dependency directories read-only, and the fixes hooks make carried back to the live files."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import git, head, status, write, wt_commit
from hookmanagers import project
from npmtools import JEST, link_node_modules


def isolated(repo: Path) -> None:
    git(repo, "config", "wt.hooks", "isolated")


@pytest.mark.parametrize("manager", ["husky", "lefthook"])
def test_hook_runs_never_see_or_touch_the_shared_stash(
    repo: Path, tmp_path: Path, manager: str
) -> None:
    """lint-staged and lefthook back up into the stash. In the hook checkout that stash is
    private: a person's entry is neither seen nor moved, and no backup is left behind."""
    project(repo, manager)
    isolated(repo)
    write(repo, "README", "a person's unfinished work\n")
    git(repo, "stash", "push", "-q", "-m", "person's work")
    shared_before = git(repo, "stash", "list", "--format=%H %gs")
    seen = tmp_path / "seen"
    env = {"HOOK_LOG": os.fspath(tmp_path / "log"), "HOOK_STASH_SEEN": os.fspath(seen)}
    write(repo, "bad.js", "BAD\n")
    proc = wt_commit(repo, "-m", "bad", "--", "bad.js", env=env)
    assert proc.returncode == 5, proc.stderr  # the failing run restores from its backup
    write(repo, "ok.js", "let  ok = 1\n")
    proc = wt_commit(repo, "-m", "ok", "--", "ok.js", env=env)
    assert proc.returncode == 0, proc.stderr
    assert seen.exists() and "person's work" not in seen.read_text()  # never seen
    assert git(repo, "stash", "list", "--format=%H %gs") == shared_before  # never touched
    assert (repo / "README").read_text() == "hello\n"


def test_dependency_dirs_are_there_and_read_only(repo: Path, tmp_path: Path) -> None:
    bin_dir = link_node_modules(repo, "prettier@3.10.1")
    write(repo, ".gitignore", "node_modules\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    isolated(repo)
    report = tmp_path / "report"
    hook = write(
        repo,
        ".git/hooks/pre-commit",
        f"""#!/bin/sh
node_modules/.bin/prettier --check a.js > /dev/null 2>&1; echo "prettier=$?" > {report}
touch node_modules/new-file 2>/dev/null; echo "create=$?" >> {report}
mkdir node_modules/.cache 2>/dev/null; echo "mkdir=$?" >> {report}
rm -rf node_modules/prettier 2>/dev/null; echo "rm=$?" >> {report}
pwd >> {report}
exit 0
""",
    )
    hook.chmod(0o755)
    live = sorted(os.listdir(bin_dir.parent))
    write(repo, "a.js", "const a = 1;\n")
    proc = wt_commit(repo, "--json", "-m", "a", "--", "a.js")
    assert proc.returncode == 0, proc.stderr
    lines = report.read_text().splitlines()
    assert lines[0] == "prettier=0", lines  # the tool runs from the checkout
    if os.geteuid() != 0:  # mode bits stop everyone but root
        assert all(not ln.endswith("=0") for ln in lines[1:4]), lines
    assert sorted(os.listdir(bin_dir.parent)) == live  # nothing reached the live directory
    assert (bin_dir.parent / "prettier/package.json").exists()
    assert "/.git/" not in lines[4] + "/" and lines[4] != os.fspath(repo)
    write(repo, "a.js", "const a = 2;\n")
    assert wt_commit(repo, "-m", "a2", "--", "a.js").returncode == 0
    lines = report.read_text().splitlines()
    assert lines[0] == "prettier=0", lines  # a mirror a hook could change (root) is rebuilt


def test_command_not_found_says_so_and_what_to_configure(repo: Path) -> None:
    project(repo, "husky")
    isolated(repo)
    git(repo, "config", "wt.hookDeps", "vendor")  # node_modules is not given to the hooks
    write(repo, "a.js", "const a = 1;\n")
    proc = wt_commit(repo, "--json", "-m", "a", "--", "a.js")
    out = json.loads(proc.stdout)
    assert proc.returncode == 5 and out["hook_exit"] == 127, proc.stderr
    assert out["hook_error"] == "command_not_found"
    assert "wt.hookDeps" in out["fix"] and "fix what the hook reports" not in out["fix"]
    git(repo, "config", "--unset", "wt.hookDeps")
    assert wt_commit(repo, "-m", "a", "--", "a.js").returncode == 0


def test_staged_fix_is_carried_back_only_where_the_live_file_is_unchanged(
    repo: Path, tmp_path: Path
) -> None:
    """lint-staged stages prettier's fix itself. The commit holds the fix; the live file gets it
    too, unless it was edited meanwhile (then it is kept, and the path reported)."""
    project(repo, "husky")
    isolated(repo)
    flag = tmp_path / "flag"
    write(repo, "a.js", "let  a = 1\n")
    write(repo, "b.js", "let  b = 1\n")
    proc = subprocess.Popen(
        ["wt-commit", "-m", "ab", "--", "a.js", "b.js"], cwd=repo, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "HOOK_WAIT_FOR": os.fspath(flag)},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not Path(f"{flag}.waiting").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    write(repo, "b.js", "let  b = 2 // edited while the hook ran\n")
    flag.touch()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert git(repo, "show", "HEAD:a.js") == "let a = 1;\n"
    assert git(repo, "show", "HEAD:b.js") == "let b = 1;\n"
    assert (repo / "a.js").read_text() == "let a = 1;\n"  # carried back: clean
    assert (repo / "b.js").read_text() == "let  b = 2 // edited while the hook ran\n"
    assert "b.js" in err and "not written" in err
    st = status(repo)
    assert "a.js" not in st and "b.js" in st


def test_real_jest_finds_and_runs_tests_in_the_hook_checkout(repo: Path) -> None:
    """Jest ignores every path containing /.git/: in the old checkout location it found no tests
    and passed vacuously."""
    link_node_modules(repo, JEST)
    write(repo, ".gitignore", "node_modules\n")
    write(repo, "package.json", '{"name": "p", "private": true}\n')
    write(repo, "sum.js", "module.exports = (a, b) => a + b;\n")
    test_js = "const sum = require('./sum');\ntest('adds', () => expect(sum(1, 2)).toBe(3));\n"
    write(repo, "sum.test.js", test_js)
    git(repo, "add", ".gitignore", "package.json", "sum.js", "sum.test.js")
    git(repo, "commit", "-qm", "jest project")
    hook = write(repo, ".git/hooks/pre-commit", "#!/bin/sh\n"
                 "exec node_modules/.bin/jest --ci --findRelatedTests --passWithNoTests "
                 "$(git diff --cached --name-only --diff-filter=ACM -- '*.js')\n")  # fmt: skip
    hook.chmod(0o755)
    isolated(repo)
    write(repo, "sum.js", "module.exports = (a, b) => a + b; // same\n")
    proc = wt_commit(repo, "-m", "ok", "--", "sum.js")
    assert proc.returncode == 0, proc.stderr
    assert "1 passed" in proc.stderr, proc.stderr  # the test was found and ran
    before = head(repo)
    write(repo, "sum.js", "module.exports = (a, b) => a - b;\n")
    proc = wt_commit(repo, "-m", "broken", "--", "sum.js")
    assert proc.returncode == 5 and "1 failed" in proc.stderr, proc.stderr
    assert head(repo) == before
