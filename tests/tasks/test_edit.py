"""`git wt task edit` in an editor: saved by compare-and-swap against the version it read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from conftest import GIT_WT

from .helpers import board_file, task


def _editor(tmp: Path, body: str) -> dict[str, str]:
    script = tmp / "editor.sh"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"GIT_EDITOR": os.fspath(script)}


def _edit(repo: Path, env: dict[str, str]) -> dict[str, object]:
    import json
    import subprocess

    proc = subprocess.run(
        [GIT_WT, "task", "edit", "T1", "--agent", "ed", "--json"],
        cwd=repo, capture_output=True, text=True, env={**os.environ, **env},
    )  # fmt: skip
    data: dict[str, object] = json.loads(proc.stdout)
    data["exit"] = proc.returncode
    return data


def test_editor_changes_are_saved(repo: Path, tmp_path: Path) -> None:
    task(repo, "add", "old title")
    env = _editor(tmp_path, "sed -i -e 's/^title: .*/title: new title/' \"$1\"")
    assert _edit(repo, env)["exit"] == 0
    assert "title: new title" in board_file(repo, "T1")
    assert _edit(repo, _editor(tmp_path, "true"))["outcome"] == "unchanged"


def test_nonsense_from_the_editor_changes_nothing(repo: Path, tmp_path: Path) -> None:
    task(repo, "add", "keep me")
    before = board_file(repo, "T1")
    refused = _edit(repo, _editor(tmp_path, 'echo "not a task" > "$1"'))
    assert refused["exit"] == 2 and board_file(repo, "T1") == before


def test_a_change_made_while_editing_is_not_overwritten(repo: Path, tmp_path: Path) -> None:
    task(repo, "add", "contested")
    # While the editor is open, another agent renames the task.
    body = (
        f"{GIT_WT} task edit T1 --title 'renamed meanwhile' --agent other >/dev/null\n"
        "sed -i -e 's/^priority: .*/priority: 0/' \"$1\""
    )
    moved = _edit(repo, _editor(tmp_path, body))
    assert moved["exit"] == 4 and moved["outcome"] == "conflict"
    text = board_file(repo, "T1")
    assert "title: renamed meanwhile" in text and "priority: 2" in text
