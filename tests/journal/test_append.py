"""`git wt journal append`: each agent writes its own file, committed through wt-commit."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from conftest import GIT_WT, git, git_wt, head, run_all, snapshot


def append(repo: Path, *args: str, stdin: str | None = None) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run(
        [GIT_WT, "journal", "append", "--json", *args],
        cwd=repo,
        input=stdin,
        capture_output=True,
        text=True,
    )
    return proc.returncode, json.loads(proc.stdout)


def test_creates_then_appends_to_the_agents_own_entry(repo: Path) -> None:
    rc, first = append(repo, "--agent", "ana", "--topic", "Parser Bug!", "found it")
    assert rc == 0 and first["created"] and first["outcome"] == "committed"
    path = first["path"]
    assert path.startswith("journal/") and path.endswith("-ana-parser-bug.md")
    assert first["commit"] == head(repo)
    assert git(repo, "show", f"HEAD:{path}") == "found it\n"
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [path]
    rc, second = append(repo, "--agent", "ana", "--topic", "parser bug", "-", stdin="fixed\r\n")
    assert rc == 0 and not second["created"] and second["path"] == path
    assert git(repo, "show", f"HEAD:{path}") == "found it\n\nfixed\n"
    assert git_wt(repo, "journal", "verify").returncode == 0


def test_agents_and_topics_get_their_own_files(repo: Path) -> None:
    paths = {
        append(repo, "--agent", agent, "--topic", topic, "x")[1]["path"]
        for agent, topic in (("ana", "a"), ("bob", "a"), ("ana", "b"))
    }
    assert len(paths) == 3


def test_concurrent_agents_never_collide(repo: Path) -> None:
    procs = [
        subprocess.Popen(
            [GIT_WT, "journal", "append", "--agent", f"agent{i}", f"hello from {i}"],
            cwd=repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=os.environ,
        )
        for i in range(4)
    ]
    assert run_all(procs) == [0, 0, 0, 0]
    files = git(repo, "ls-tree", "-r", "--name-only", "HEAD", "journal").split()
    assert len(files) == 4
    assert git_wt(repo, "journal", "verify").returncode == 0


def test_refuses_bad_text_and_changes_nothing(repo: Path) -> None:
    before = snapshot(repo)
    rc, payload = append(repo, "--agent", "ana", "-", stdin="a\0b")
    assert rc == 2 and payload["outcome"] == "invalid"
    rc, payload = append(repo, "--agent", "ana", "lone\rCR")
    assert rc == 2 and "CR" in payload["error"]
    rc, payload = append(repo, "--agent", "../evil", "x")
    assert rc == 2
    rc, payload = append(repo, "--agent", "ana", "-", stdin="  \n")
    assert rc == 2
    assert snapshot(repo) == before
    assert not (repo / "journal").exists()


def test_refuses_to_append_over_uncommitted_changes(repo: Path) -> None:
    rc, first = append(repo, "--agent", "ana", "one")
    (repo / first["path"]).write_text("one\nlocal edit\n")
    rc, payload = append(repo, "--agent", "ana", "two")
    assert rc == 2 and "uncommitted" in payload["error"]


def test_a_failed_commit_puts_the_file_back(repo: Path) -> None:
    rc, first = append(repo, "--agent", "ana", "one")
    committed = (repo / first["path"]).read_bytes()
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    rc, payload = append(repo, "--agent", "ana", "two")
    assert rc == 5 and payload["outcome"] == "hook_failed"
    assert (repo / first["path"]).read_bytes() == committed
    rc, payload = append(repo, "--agent", "ana", "--topic", "other", "new file")
    assert rc == 5
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
