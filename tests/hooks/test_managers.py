"""The real hook managers behind the shims: husky + lint-staged, simple-git-hooks + lint-staged,
lefthook and the pre-commit framework, each chained so that it really runs, repaired after its
own reinstall, and put back by uninstall."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import git, git_wt, head, status, write, wt_commit
from hookmanagers import project, reinstall

ALL = ("husky", "simple-git-hooks", "lefthook", "pre-commit")


def plain_commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "-qm", "plain", *args], cwd=repo, capture_output=True, text=True
    )


@pytest.mark.parametrize("manager", ALL)
def test_each_manager_really_runs_behind_the_shim(repo: Path, manager: str) -> None:
    """husky's stub dispatches on its own file name: chained as `pre-commit.wt-chained` it ran
    nothing and a commit the lint must refuse went through."""
    project(repo, manager)
    out = json.loads(git_wt(repo, "hooks", "install", "--json").stdout)
    pre = next(c for c in out["changes"] if c["hook"] == "pre-commit")
    assert pre["action"] == "chained", out
    status_out = json.loads(git_wt(repo, "hooks", "status", "--json").stdout)
    slot = status_out["hooks"][0]
    assert slot["state"] == "installed" and slot["manager"] == manager, slot

    write(repo, "bad.js", "const x = 'BAD';\n")
    git(repo, "add", "bad.js")
    before = head(repo)
    proc = plain_commit(repo)
    assert proc.returncode != 0 and "BAD in" in proc.stdout + proc.stderr, proc
    assert head(repo) == before
    git(repo, "reset", "-q")
    proc = wt_commit(repo, "--json", "-m", "bad", "--", "bad.js")
    assert proc.returncode == 5 and "BAD in" in proc.stderr, proc.stderr
    assert head(repo) == before

    write(repo, "good.js", "const   y =  1\n")
    proc = wt_commit(repo, "--json", "-m", "good", "--", "good.js")
    if manager == "pre-commit":  # the framework refuses a commit its fixer changed...
        assert proc.returncode == 5 and "fixes were written to: good.js" in proc.stderr
        assert (repo / "good.js").read_text() == "const y = 1;\n"  # ...and the fix is live
        proc = wt_commit(repo, "--json", "-m", "good", "--", "good.js")
    assert proc.returncode == 0, proc.stderr
    assert git(repo, "show", "HEAD:good.js") == "const y = 1;\n"  # prettier ran, fix committed
    assert (repo / "good.js").read_text() == "const y = 1;\n"  # and is in the live file
    assert "good.js" not in status(repo)


@pytest.mark.parametrize("manager", ("husky", "lefthook", "pre-commit", "simple-git-hooks"))
def test_reinstall_is_noticed_repaired_and_uninstall_leaves_what_the_manager_expects(
    repo: Path, manager: str
) -> None:
    project(repo, manager)
    assert git_wt(repo, "hooks", "install").returncode == 0
    reinstall(repo, manager)  # npm install / lefthook install / pre-commit install

    slot = json.loads(git_wt(repo, "hooks", "status", "--json").stdout)["hooks"][0]
    assert slot["state"] == "bypassed" and slot["fix"] == "git wt hooks install", slot
    doctor = json.loads(git_wt(repo, "doctor", "--json").stdout)
    kinds = {f["kind"]: f for f in doctor["findings"]}
    assert kinds["hooks_bypassed"]["fix"] == "git wt hooks install", doctor
    watch = git_wt(repo, "watch", "--once", "--json", "--no-journal")
    assert watch.returncode == 7 and "hooks_bypassed" in watch.stdout, watch.stdout

    out = git_wt(repo, "hooks", "install", "--json")
    assert out.returncode == 0, out.stderr
    pre = next(c for c in json.loads(out.stdout)["changes"] if c["hook"] == "pre-commit")
    assert pre["action"] == "repaired", pre
    slot = json.loads(git_wt(repo, "hooks", "status", "--json").stdout)["hooks"][0]
    assert slot["state"] == "installed" and slot["manager"] == manager and not slot["displaced"]
    assert json.loads(git_wt(repo, "doctor", "--json").stdout)["findings"] == []

    write(repo, "bad.js", "const x = 'BAD';\n")
    git(repo, "add", "bad.js")
    proc = plain_commit(repo)
    assert proc.returncode != 0 and "BAD in" in proc.stdout + proc.stderr  # chain runs once more

    reinstall(repo, manager)
    assert git_wt(repo, "hooks", "uninstall").returncode == 0
    hooks_dir = Path(json.loads(git_wt(repo, "hooks", "status", "--json").stdout)["hooks_dir"])
    names = sorted(p.name for p in hooks_dir.glob("pre-commit*") if p.suffix != ".sample")
    assert names == ["pre-commit"], names  # no shim, no .legacy, no .wt-chained left
    assert "worktree-tools" not in (hooks_dir / "pre-commit").read_text()
    proc = plain_commit(repo)
    assert proc.returncode != 0 and "BAD in" in proc.stdout + proc.stderr  # the manager alone
    assert "pre-commit" not in status(repo).replace("bad.js", "")
