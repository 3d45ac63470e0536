"""Task files edited by hand into nonsense: reported with the path and the repair command,
never a traceback, never overwritten; the rest of the board keeps working."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import git, git_wt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worktree_tools.tasks.model import CorruptTask, Task, TaskState, normal_body

from .helpers import board_file, task

IDS = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,20}", fullmatch=True).filter(
    lambda s: ".." not in s and not s.endswith((".lock", ".")) and s != "human"
)
TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)


@st.composite
def tasks(draw: st.DrawFn) -> Task:
    task_id = draw(IDS)
    title = draw(TEXT.map(lambda s: s.replace("\n", " ").replace("\r", " ").strip()))
    deps = draw(st.lists(IDS.filter(lambda d: d != task_id), max_size=3, unique=True))
    return Task(
        id=task_id,
        title=title or "x",
        priority=draw(st.integers(0, 9)),
        depends_on=tuple(deps),
        next_action=draw(st.one_of(st.none(), TEXT.filter(lambda s: s.strip() == s and s))),
        created="2026-11-29T15:04:05Z",
        updated="2026-11-29T15:04:06Z",
        body=normal_body(draw(TEXT)),
        state=TaskState.OPEN,
    )


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(tasks())
def test_render_then_parse_is_the_identity(t: Task) -> None:
    again = Task.parse(t.render(), f"tasks/{t.id}.md")
    assert again == t
    assert again.render() == t.render()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(tasks(), st.data())
def test_any_edit_parses_or_is_reported_as_corrupt(t: Task, data: st.DataObject) -> None:
    text = t.render()
    pos = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 20))
    insert = data.draw(st.sampled_from(["", ":", "---", "\n", "[", '"', "state: x\n", "{", "\0"]))
    mangled = text[:pos] + insert + text[pos + cut :]
    try:
        Task.parse(mangled, f"tasks/{t.id}.md")
    except CorruptTask as err:
        assert f"tasks/{t.id}.md" in err.message and err.fix and t.id in err.fix


def mangle(repo: Path, name: str, content: bytes | None) -> None:
    """Commit `content` as tasks/NAME on the board by plumbing (None: a directory there)."""
    index = repo / ".git" / "mangle-index"
    env = {**os.environ, "GIT_INDEX_FILE": os.fspath(index)}
    import subprocess

    def run(*args: str, data: bytes | None = None) -> str:
        proc = subprocess.run(["git", *args], cwd=repo, env=env, input=data, capture_output=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.decode().strip()

    run("read-tree", "wt/tasks")
    if content is None:
        blob = run("hash-object", "-w", "--stdin", data=b"x")
        run("update-index", "--add", "--cacheinfo", f"100644,{blob},tasks/{name}/inner")
    else:
        blob = run("hash-object", "-w", "--stdin", data=content)
        run("update-index", "--add", "--cacheinfo", f"100644,{blob},tasks/{name}")
    tree = run("write-tree")
    commit = run("commit-tree", tree, "-p", "wt/tasks", "-m", "hand edit")
    run("update-ref", "refs/heads/wt/tasks", commit)
    index.unlink()


C = "created: 2026-11-29T15:04:05Z\n"
BAD = {
    "nofront.md": b"just some notes\n",
    "unclosed.md": f"---\nid: unclosed\ntitle: x\n{C}".encode(),
    "badstate.md": f"---\nid: badstate\ntitle: x\nstate: maybe\n{C}---\n".encode(),
    "wrongid.md": f"---\nid: other\ntitle: x\n{C}---\n".encode(),
    "dupkey.md": f"---\nid: dupkey\nid: dupkey\ntitle: x\n{C}---\n".encode(),
    "binary.md": b"\xff\xfe\x00garbage",
    "claimless.md": f"---\nid: claimless\ntitle: x\nstate: claimed\n{C}---\n".encode(),
    "badprio.md": f"---\nid: badprio\ntitle: x\npriority: high\n{C}---\n".encode(),
}


def test_mangled_files_are_reported_and_the_board_keeps_working(repo: Path) -> None:
    task(repo, "add", "good one")
    for name, content in BAD.items():
        mangle(repo, name, content)
    mangle(repo, "adir.md", None)
    listing = task(repo, "list")
    assert listing["exit"] == 7 and listing["outcome"] == "attention"
    assert [t["id"] for t in listing["tasks"]] == ["T1"]
    reported = {e["task"]: e for e in listing["errors"]}
    assert set(reported) == {n.removesuffix(".md") for n in [*BAD, "adir.md"]}
    for stem, err in reported.items():
        assert err["path"] == f"tasks/{stem}.md" and f"git wt task edit {stem}" in err["fix"]
    assert "Traceback" not in git_wt(repo, "task", "list").stderr
    shown = task(repo, "show", "badstate")
    assert shown["exit"] == 2 and "tasks/badstate.md" in shown["error"] and shown["fix"]
    before = git(repo, "rev-parse", "wt/tasks")
    refused = task(repo, "claim", "badstate")
    assert refused["exit"] == 2 and git(repo, "rev-parse", "wt/tasks") == before
    assert board_file(repo, "badstate").count("maybe") == 1  # left as it was
    got = task(repo, "next")
    assert got["task_id"] == "T1"  # the readable task is still served
    watch = git_wt(repo, "watch", "--once", "--json", "--no-journal")
    assert watch.returncode == 7 and '"task_corrupt"' in watch.stdout


def test_edit_repairs_a_mangled_file(repo: Path, tmp_path: Path) -> None:
    task(repo, "add", "good one")
    mangle(repo, "broken.md", b"---\nid: broken\ntitle: x\nstate: maybe\n---\n")
    fixed = tmp_path / "fixed.md"
    fixed.write_text("---\nid: broken\ntitle: repaired\ncreated: 2026-11-29T15:04:05Z\n---\nok\n")
    nonsense = tmp_path / "nonsense.md"
    nonsense.write_text("not a task\n")
    still = task(repo, "edit", "broken", "--file", os.fspath(nonsense))
    assert still["exit"] == 2 and task(repo, "list")["exit"] == 7
    repaired = task(repo, "edit", "broken", "--file", os.fspath(fixed))
    assert repaired["exit"] == 0 and repaired["repaired"] is True
    listing = task(repo, "list")
    assert listing["exit"] == 0 and {t["id"] for t in listing["tasks"]} == {"T1", "broken"}


@pytest.mark.parametrize("field", ["state: done", "assigned_to: someone", "token: 9"])
def test_edit_cannot_forge_a_claim(repo: Path, tmp_path: Path, field: str) -> None:
    task(repo, "add", "x")
    text = board_file(repo, "T1")
    key = field.split(":")[0]
    lines = [field if line.startswith(key + ":") else line for line in text.splitlines()]
    forged = tmp_path / "forged.md"
    forged.write_text("\n".join(lines) + "\n")
    refused = task(repo, "edit", "T1", "--file", os.fspath(forged))
    assert refused["exit"] == 2 and key in refused["error"]
    assert board_file(repo, "T1") == text


def test_an_unreadable_claim_record_counts_as_held(repo: Path) -> None:
    task(repo, "add", "x")
    task(repo, "claim", "T1", agent="a1")
    garbage = git(repo, "hash-object", "-w", "--stdin", input=b"{not json").strip()
    git(repo, "update-ref", "refs/wt/claims/T1", garbage)
    listing = task(repo, "list")
    assert listing["exit"] == 7 and listing["errors"][0]["path"] == "refs/wt/claims/T1"
    assert "git update-ref -d refs/wt/claims/T1" in listing["errors"][0]["fix"]
    refused = task(repo, "claim", "T1", agent="a2")
    assert refused["exit"] == 6 and refused["holder"] == "a1"
    assert task(repo, "next", agent="a2")["task"] is None
