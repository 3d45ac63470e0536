"""The installed `wt-commit` and `git-wt` start without importing anything before our code.

pip (before 25.2) writes a console-script launcher for a [project.scripts] entry point that does
`import re` first, 6 ms of CPU per start on the bench machine. The project ships its launchers as
script files (bin/, `#!python`) instead; pip rewrites that line to the target interpreter. Each
test here builds the project from a copy of its source with pip as a user would (build
isolation, the setuptools pyproject.toml asks for), installs it into a fresh venv, and runs the
launchers by their path, through their shebang: a real commit, and `git wt` help.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import copy_project, git, write

# The tests pin HOME; pip's download cache stays the user's, so setuptools is fetched once.
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or os.path.expanduser("~/.cache/pip")
LAUNCHERS = ("wt-commit", "git-wt")


def pip(*args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PIP_CACHE_DIR": PIP_CACHE},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def fresh_venv(path: Path) -> Path:
    """A venv with nothing installed, whose interpreter also sees this one's packages (click,
    pygit2...) after its own: the project under test is the one installed into it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", path], check=True)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "deps-of-the-test.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    return python


def imported_before_our_code(launcher: Path, args: list[str], cwd: Path) -> list[str]:
    """Modules the launcher imports before the first worktree_tools module, beyond what the
    interpreter's own start-up imports (`python -c pass` in the same venv). Runs the launcher
    by its path, so its shebang must name a working interpreter."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = subprocess.run([launcher, *args], cwd=cwd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    python = launcher.parent / "python"
    start = subprocess.run([python, "-c", "pass"], capture_output=True, text=True, env=env)
    before = []
    for name in imported(proc.stderr):
        if name.startswith("worktree_tools"):
            break
        before.append(name)
    else:
        raise AssertionError(f"{launcher} imported no worktree_tools module:\n{proc.stderr}")
    return sorted(set(before) - set(imported(start.stderr)))


def imported(importtime: str) -> list[str]:
    """Module names in -X importtime output, in the order their imports finished."""
    return [
        line.rsplit("|", 1)[1].strip()
        for line in importtime.splitlines()
        if line.startswith("import time:") and not line.endswith("imported package")
    ]


def check_launchers(venv: Path, site_of_package: Path, repo: Path) -> None:
    python = venv / "bin" / "python"
    for name in LAUNCHERS:
        script = venv / "bin" / name
        first = script.read_bytes().split(b"\n", 1)[0]
        assert first == b"#!" + os.fsencode(python), (name, first)
        assert os.access(script, os.X_OK), name
    write(repo, "a.txt", "a\n")
    wt_commit = venv / "bin" / "wt-commit"
    assert imported_before_our_code(wt_commit, ["-m", "via launcher", "a.txt"], repo) == []
    assert git(repo, "log", "-1", "--format=%s").strip() == "via launcher"
    assert imported_before_our_code(venv / "bin" / "git-wt", ["--help"], repo) == []
    where = subprocess.run(
        [python, "-c", "import worktree_tools; print(worktree_tools.__file__)"],
        cwd=repo,  # not this checkout, which `python -c` would put first on sys.path
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).parent == site_of_package / "worktree_tools", where


def check_wheel(wheel: Path) -> None:
    """The wheel holds the launchers as scripts whose first line is `#!python`, the marker
    installers replace (pip's fix_script copies a script with any other first line as it is),
    and no console-script entry points for pip to write launchers of its own for."""
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        for name in LAUNCHERS:
            (entry,) = [n for n in names if n.endswith(f".data/scripts/{name}")]
            assert zf.read(entry).startswith(b"#!python\n"), name
        assert not [n for n in names if n.endswith("entry_points.txt")], names


@pytest.fixture
def repo_for_launchers(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    write(repo, "README", "x\n")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "init")
    return repo


@pytest.mark.parametrize("how", ["wheel", "pip install DIR"])
def test_installed_launchers_import_nothing_before_our_code(
    tmp_path: Path, repo_for_launchers: Path, how: str
) -> None:
    src = copy_project(tmp_path / "src")
    python = fresh_venv(tmp_path / "venv")
    if how == "wheel":
        pip("wheel", "--no-deps", "-q", "-w", os.fspath(tmp_path / "dist"), os.fspath(src))
        (wheel,) = (tmp_path / "dist").glob("worktree_tools-*.whl")
        check_wheel(wheel)
        shutil.rmtree(src)  # the wheel alone: nothing may come from the source tree
        target = os.fspath(wheel)
    else:
        target = os.fspath(src)
    pip("--python", os.fspath(python), "install", "--no-deps", "-q", target)
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    check_launchers(tmp_path / "venv", Path(site), repo_for_launchers)


@pytest.mark.parametrize("mode", ["compat", None])
def test_editable_launchers_import_nothing_before_our_code(
    tmp_path: Path, repo_for_launchers: Path, mode: str | None
) -> None:
    """scripts/_venv.sh installs the checkout editable in compat mode (a path in a .pth file);
    setuptools' default mode (an import hook) is checked too."""
    src = copy_project(tmp_path / "src")
    python = fresh_venv(tmp_path / "venv")
    settings = ["--config-settings", f"editable_mode={mode}"] if mode else []
    pip("--python", os.fspath(python), "install", "--no-deps", "-q", *settings, "-e", f"{src}")
    check_launchers(tmp_path / "venv", src, repo_for_launchers)
