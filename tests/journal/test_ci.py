"""The CI recipe (ci/verify-journal.sh) and the pre-commit framework hooks
(.pre-commit-hooks.yaml), run for real."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from conftest import BIN, copy_project, git, head, write

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ci" / "verify-journal.sh"
ENTRY = "journal/a.md"


def published(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A remote with a journal history of three commits, and the commit ids."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    oids = []
    for text in ("one\n", "one\ntwo\n", "one\ntwo\nthree\n"):
        write(work, ENTRY, text)
        git(work, "add", ENTRY)
        git(work, "commit", "-qm", text.split()[-1])
        oids.append(head(work))
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(remote))
    return work, remote, oids


def ci(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True)


def test_ci_script_unshallows_and_verifies_the_range(tmp_path: Path) -> None:
    _work, remote, oids = published(tmp_path)
    clone = tmp_path / "ci"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{remote}", str(clone))
    proc = ci(clone, oids[0], oids[2])
    assert proc.returncode == 0, proc.stderr
    assert "3" not in proc.stdout or "commit" in proc.stdout
    assert git(clone, "rev-parse", "--is-shallow-repository").strip() == "false"
    assert ci(clone, "0" * 40, oids[2]).returncode == 0
    assert ci(clone, "", "HEAD").returncode == 0


def test_ci_script_fails_on_a_force_push_and_a_missing_tip(tmp_path: Path) -> None:
    work, remote, oids = published(tmp_path)
    git(work, "reset", "-q", "--hard", oids[0])
    write(work, ENTRY, "ONE\n")
    git(work, "commit", "-qam", "rewrite")
    git(work, "push", "-qf", str(remote), "HEAD:master", "HEAD:main")
    clone = tmp_path / "ci"
    git(tmp_path, "clone", "-q", f"file://{remote}", str(clone))
    proc = ci(clone, oids[2], "HEAD")  # the old tip is gone from every branch
    assert proc.returncode in (1, 6), proc.stderr
    assert proc.returncode != 0
    assert ci(clone, "", "HEAD").returncode == 6  # the rewrite itself is a violation


def test_pre_commit_framework_hooks(tmp_path: Path) -> None:
    """The hooks as a pre-commit user gets them: installed from a repository by rev, by a
    regular (not editable) pip install of this project, so it also proves the packaging."""
    hooks_repo = copy_project(tmp_path / "hooks-repo", ".pre-commit-hooks.yaml")
    git(hooks_repo, "init", "-q")
    git(hooks_repo, "add", ".")
    git(hooks_repo, "commit", "-qm", "hooks")
    rev = head(hooks_repo)

    work, remote, _oids = published(tmp_path)
    write(
        work,
        ".pre-commit-config.yaml",
        f"repos:\n-   repo: {hooks_repo}\n    rev: {rev}\n    hooks:\n"
        "    -   id: wt-journal-check\n    -   id: wt-journal-pre-push\n",
    )
    git(work, "remote", "add", "origin", str(remote))
    git(work, "fetch", "-q", "origin")
    env = {
        **os.environ,
        # pip's download cache outlives the hermetic HOME, so a rerun does not download again
        "PIP_CACHE_DIR": str(Path(tempfile.gettempdir()) / "wt-journal-test-pip-cache"),
    }
    pre_commit = str(BIN / "pre-commit")
    subprocess.run(
        [pre_commit, "install", "-t", "pre-commit", "-t", "pre-push"],
        cwd=work, check=True, env=env, capture_output=True,
    )  # fmt: skip

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=work, env=env, capture_output=True, text=True)

    git(work, "add", ".pre-commit-config.yaml")
    proc = run("git", "commit", "-qm", "use the hooks")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    before = head(work)
    write(work, ENTRY, "rewritten\n")
    git(work, "add", ENTRY)
    proc = run("git", "commit", "-qm", "rewrite")
    assert proc.returncode != 0 and "rewritten" in proc.stdout + proc.stderr
    assert head(work) == before
    proc = run("git", "commit", "-qm", "rewrite", "--no-verify")  # past the first hook...
    assert proc.returncode == 0
    proc = run("git", "push", "origin", "HEAD:main")  # ...but not past the push
    assert proc.returncode != 0 and "rewritten" in proc.stdout + proc.stderr
    git(work, "reset", "-q", "--hard", before)
    write(work, ENTRY, "one\ntwo\nthree\nfour\n")
    git(work, "add", ENTRY)
    assert run("git", "commit", "-qm", "append").returncode == 0
    proc = run("git", "push", "origin", "HEAD:main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
