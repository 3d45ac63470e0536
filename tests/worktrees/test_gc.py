"""gc: collect dead, expired and done worktrees; rescue every byte first; restore exactly."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import WT_COMMIT, git, git_wt, snapshot, write, wt_commit

from .helpers import (
    alloc,
    edit_record,
    files_of,
    index_state,
    kill,
    record_path,
    rescues,
    spawn_owner,
    wt_json,
)

BINARY = bytes(range(256)) * 3 + b"\0\r\n\xff"


def _make_mess(path: Path) -> None:
    """Every kind of uncommitted work: modified, staged, partly staged, deleted, untracked,
    binary, executable, symlink, nested directories."""
    write(path, "README", "hello\nchanged, not staged\n")
    write(path, "staged.txt", "staged only\n")
    git(path, "add", "staged.txt")
    write(path, "src/app.py", "print('staged')\n")
    git(path, "add", "src/app.py")
    write(path, "src/app.py", "print('staged, then edited again')\n")
    write(path, "deep/er/blob.bin", BINARY)
    script = write(path, "tool.sh", "#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    os.symlink("README", path / "link")
    write(path, "gone-soon.txt", "x\n")


def test_plain_git_loses_work_that_gc_rescues(repo: Path, tmp_path: Path) -> None:
    # The usual cleanup, for contrast: `git worktree remove --force` deletes untracked work.
    git(repo, "worktree", "add", "-q", str(tmp_path / "plain"))
    write(tmp_path / "plain", "precious.txt", "lost\n")
    git(repo, "worktree", "remove", "--force", str(tmp_path / "plain"))
    assert not (tmp_path / "plain").exists()

    owner = spawn_owner()
    path = alloc(repo, "a1", owner=owner.pid)
    _make_mess(path)
    write(path, ".gitignore", "build/\n")
    write(path, "build/out.o", "generated\n")
    before_files = files_of(path)
    before_index = index_state(path)
    before_head = git(path, "rev-parse", "HEAD")
    kill(owner)
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    item = json.loads(res.stdout)["worktrees"][0]
    assert item["action"] == "removed" and item["lease"] == "owner_dead"
    assert not path.exists()
    assert f"restore with: git wt rescue restore {item['rescue']}" in res.stderr
    assert "not saved (ignored by .gitignore and regenerable" in res.stderr
    assert "1 path(s)" in res.stderr and "build/" in res.stderr
    del before_files["build/out.o"]
    assert not record_path(repo, "a1").parent.exists()
    [saved] = rescues(repo)
    assert saved["id"] == item["rescue"] and saved["uncommitted"] is True
    assert git(repo, "rev-parse", saved["ref"]).strip() == saved["commit"]

    restored = wt_json(repo, "rescue", "restore", saved["id"])
    assert Path(restored["worktree"]) == path
    assert files_of(path) == before_files
    assert index_state(path) == before_index
    assert git(path, "rev-parse", "HEAD") == before_head
    other = tmp_path / "copy"
    wt_json(repo, "rescue", "restore", saved["id"], "--to", str(other))
    assert files_of(other) == before_files and index_state(other) == before_index
    # a restore never overwrites
    before = snapshot(repo)
    res = git_wt(repo, "rescue", "restore", saved["id"], "--to", str(other))
    assert res.returncode == 2 and "already exists" in res.stderr
    assert git_wt(repo, "rescue", "restore", "a1/nope").returncode == 2
    assert snapshot(repo) == before


def test_unmerged_commits_keep_their_branch_and_are_rescued(repo: Path) -> None:
    path = alloc(repo, "a1")
    write(path, "feature.txt", "new\n")
    assert wt_commit(path, "-m", "feature", "--", "feature.txt").returncode == 0
    tip = git(path, "rev-parse", "HEAD").strip()
    wt_json(repo, "release", "a1", "--state", "done")
    res = git_wt(repo, "gc")
    assert res.returncode == 0, res.stderr
    assert "wt: kept branch wt/a1" in res.stderr
    assert git(repo, "rev-parse", "refs/heads/wt/a1").strip() == tip
    [saved] = rescues(repo)
    assert saved["unmerged"] is True and saved["uncommitted"] is False
    assert git(repo, "rev-parse", f"{saved['ref']}^1").strip() == tip


def test_integrated_branches_are_deleted_including_squash_merges(repo: Path) -> None:
    merged = alloc(repo, "m1")
    squashed = alloc(repo, "s1")
    write(merged, "m.txt", "m\n")
    assert wt_commit(merged, "-m", "m", "--", "m.txt").returncode == 0
    for i in range(2):
        write(squashed, f"s{i}.txt", f"{i}\n")
        assert wt_commit(squashed, "-m", f"s{i}", "--", f"s{i}.txt").returncode == 0
    git(repo, "merge", "-q", "--no-ff", "-m", "merge m1", "wt/m1")
    git(repo, "merge", "-q", "--squash", "wt/s1")
    git(repo, "commit", "-qm", "squash s1")
    for agent in ("m1", "s1"):
        wt_json(repo, "release", agent, "--state", "done")
    plan = wt_json(repo, "gc", "--dry-run")  # the same words, `would_` where a real run acts
    assert {i["agent"]: (i["action"], i["branch_action"]) for i in plan["worktrees"]} == {
        "m1": ("would_remove", "would_delete"),
        "s1": ("would_remove", "would_delete"),
    }
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    actions = {i["agent"]: i["branch_action"] for i in json.loads(res.stdout)["worktrees"]}
    assert actions == {"m1": "deleted", "s1": "deleted"}
    assert "undo with: git branch wt/s1" in res.stderr
    assert git(repo, "branch", "--list", "wt/*") == ""
    assert rescues(repo) == []  # nothing was at risk


def test_gc_skips_a_worktree_whose_owner_is_mid_commit(repo: Path, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    hook = write(
        repo,
        ".git/hooks/pre-commit",
        '#!/bin/sh\ntouch "$MARKS/started"\ni=0\n'
        'while [ ! -e "$MARKS/go" ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done\n',
    )
    hook.chmod(0o755)
    owner = spawn_owner()
    path = alloc(repo, "a1", owner=owner.pid)
    write(path, "work.txt", "work\n")
    committing = subprocess.Popen(
        [WT_COMMIT, "-m", "work", "--", "work.txt"],
        cwd=path,
        env={**os.environ, "MARKS": str(marks)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        while not (marks / "started").exists():
            assert committing.poll() is None, committing.communicate()
            time.sleep(0.02)
        kill(owner)
        before = snapshot(repo)
        record_before = record_path(repo, "a1").read_bytes()
        res = git_wt(repo, "gc", "--json")
        assert res.returncode == 3, res.stderr
        assert json.loads(res.stdout)["outcome"] == "lock_timeout"
        assert "wt-commit is in progress" in res.stderr
        assert path.is_dir() and record_path(repo, "a1").read_bytes() == record_before
        assert snapshot(repo)[:3] == before[:3]
    finally:
        (marks / "go").touch()
        _out, err = committing.communicate(timeout=120)
    assert committing.returncode == 0, err
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    assert not path.exists()
    assert "work.txt" in git(repo, "show", "--name-only", "--format=", "wt/a1")


def test_gc_leaves_unmanaged_worktrees_and_prunes_vanished_ones(repo: Path, tmp_path: Path) -> None:
    git(repo, "worktree", "add", "-q", str(tmp_path / "mine"))
    write(tmp_path / "mine", "keep.txt", "keep\n")
    git(repo, "worktree", "add", "-q", str(tmp_path / "vanished"))
    os.rename(tmp_path / "vanished", tmp_path / "elsewhere")
    import shutil

    shutil.rmtree(tmp_path / "elsewhere")
    dry = wt_json(repo, "gc", "--dry-run")
    assert any("vanished" in line for line in dry["pruned"])
    assert "vanished" in git(repo, "worktree", "list")
    res = wt_json(repo, "gc")
    assert any("vanished" in line for line in res["pruned"])
    listed = git(repo, "worktree", "list")
    assert "vanished" not in listed and str(tmp_path / "mine") in listed
    assert (tmp_path / "mine" / "keep.txt").read_text() == "keep\n"


def test_a_managed_worktree_removed_by_hand_keeps_its_commits(repo: Path) -> None:
    owner = spawn_owner()
    path = alloc(repo, "a1", owner=owner.pid)
    write(path, "f.txt", "f\n")
    assert wt_commit(path, "-m", "f", "--", "f.txt").returncode == 0
    tip = git(path, "rev-parse", "HEAD").strip()
    kill(owner)
    import shutil

    shutil.rmtree(path)
    row = wt_json(repo, "status", "a1")["worktrees"][0]
    assert row["missing"] is True and row["lease"] == "owner_dead"
    res = wt_json(repo, "gc")
    assert res["worktrees"][0]["action"] == "removed"
    assert git(repo, "rev-parse", "wt/a1").strip() == tip
    assert str(path) not in git(repo, "worktree", "list")
    [saved] = rescues(repo)
    assert saved["unmerged"] is True


def test_dry_run_changes_nothing_and_active_worktrees_stay(repo: Path) -> None:
    owner = spawn_owner()
    try:
        alive = alloc(repo, "live", owner=owner.pid)
        write(alive, "x.txt", "x\n")
        dead = alloc(repo, "done1")
        write(dead, "y.txt", "y\n")
        wt_json(repo, "release", "done1", "--state", "done")
        edit_record(repo, "live", ttl=3600)
        before = snapshot(repo)
        plan = wt_json(repo, "gc", "--dry-run")
        assert {i["agent"]: i["action"] for i in plan["worktrees"]} == {
            "done1": "would_remove",
            "live": "kept",
        }
        assert snapshot(repo) == before and dead.is_dir()
        done = wt_json(repo, "gc")
        assert {i["agent"]: i["action"] for i in done["worktrees"]} == {
            "done1": "removed",
            "live": "kept",
        }
        assert (alive / "x.txt").read_text() == "x\n"
    finally:
        kill(owner)


def test_gc_killed_at_any_point_loses_nothing_and_a_rerun_finishes(repo: Path) -> None:
    for point in ("wt-gc-rescued", "wt-gc-removed"):
        owner = spawn_owner()
        path = alloc(repo, "a1", owner=owner.pid)
        write(path, "src/app.py", "print('mine')\n")
        write(path, "new.bin", BINARY)
        write(path, "f.txt", "committed\n")
        assert wt_commit(path, "-m", "f", "--", "f.txt").returncode == 0
        before = files_of(path)
        kill(owner)
        crashed = git_wt(repo, "gc", env={"WT_FAULT": point})
        assert crashed.returncode == -9, crashed.stderr
        res = git_wt(repo, "gc", "--json")
        assert res.returncode == 0, res.stderr
        assert not path.exists() and not record_path(repo, "a1").exists()
        assert "f.txt" in git(repo, "show", "--name-only", "--format=", "wt/a1")
        # the crashed run's rescue holds all of it; a rerun's holds what was left to save
        saved = sorted(rescues(repo), key=lambda r: str(r["id"]))
        assert len(saved) == 2
        for i, item in enumerate(saved):
            dest = repo.parent / f"{point}-{i}"
            out = wt_json(repo, "rescue", "restore", str(item["id"]), "--to", str(dest))
            assert Path(out["worktree"]) == dest
            if i == 0 or point == "wt-gc-rescued":
                assert files_of(dest) == before
            else:
                assert files_of(dest)["f.txt"] == before["f.txt"]
            git(repo, "worktree", "remove", "--force", str(dest))
            git(repo, "update-ref", "-d", str(item["ref"]))
        git(repo, "branch", "-D", "wt/a1")


def test_a_write_racing_gc_is_saved_too(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An owner that is not proven dead (here: released as done, no pid) may still write while
    gc saves: gc looks again and saves what changed before it removes anything."""
    from worktree_tools.worktrees import gc, rescue
    from worktree_tools.worktrees.common import open_repo

    path = alloc(repo, "a1")
    write(path, "first.txt", "1\n")
    wt_json(repo, "release", "a1", "--state", "done")
    real = rescue.capture
    calls = []

    def capture_then_write(*args: object) -> rescue.Capture:
        cap = real(*args)  # type: ignore[arg-type]
        calls.append(cap)
        if len(calls) == 1:
            write(path, "late.txt", "written while gc was saving\n")
        return cap

    monkeypatch.setattr(rescue, "capture", capture_then_write)
    result = gc.gc(open_repo(repo))
    # two looks, a third that agrees, and the check of the directory renamed aside
    assert result.items[0].action == "removed" and len(calls) == 4
    newest = max(rescues(repo), key=lambda r: str(r["id"]))
    assert git(repo, "show", f"{newest['ref']}:late.txt") == "written while gc was saving\n"
    assert git(repo, "show", f"{newest['ref']}:first.txt") == "1\n"


def test_unmanaged_worktrees_are_collected_only_when_asked(repo: Path, tmp_path: Path) -> None:
    git(repo, "worktree", "add", "-q", str(tmp_path / "mine"))
    write(tmp_path / "mine", "keep.txt", "keep\n")
    git(repo, "worktree", "add", "-q", "--lock", str(tmp_path / "theirs"))
    managed = alloc(repo, "a1")
    assert wt_json(repo, "gc")["worktrees"][0]["action"] == "kept"
    assert (tmp_path / "mine").is_dir()
    res = git_wt(repo, "gc", "--include-unmanaged", "--json")
    assert res.returncode == 0, res.stderr
    items = {Path(i["worktree"]).name: i for i in json.loads(res.stdout)["worktrees"]}
    assert items["mine"]["action"] == "removed" and items["mine"]["rescue"]
    assert items["theirs"]["action"] == "kept" and "locked" in items["theirs"]["reason"]
    assert items["a1"]["action"] == "kept" and managed.is_dir()
    assert not (tmp_path / "mine").exists() and (tmp_path / "theirs").is_dir()
    out = wt_json(repo, "rescue", "restore", items["mine"]["rescue"], "--to", str(tmp_path / "r"))
    assert (Path(out["worktree"]) / "keep.txt").read_text() == "keep\n"


def test_a_nested_repository_is_never_removed(repo: Path) -> None:
    """A clone inside a worktree would be saved as a bare commit id: gc keeps the worktree."""
    owner = spawn_owner()
    path = alloc(repo, "a1", owner=owner.pid)
    nested = path / "vendor" / "lib"
    nested.mkdir(parents=True)
    git(nested, "init", "-q")
    write(nested, "only-here.txt", "precious\n")
    git(nested, "add", "only-here.txt")
    git(nested, "commit", "-qm", "nested")
    kill(owner)
    before = snapshot(repo)
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 1, res.stderr
    assert "nested git repository" in res.stderr and "vendor/lib" in res.stderr
    assert (nested / "only-here.txt").read_text() == "precious\n"
    assert record_path(repo, "a1").exists() and rescues(repo) == []
    assert snapshot(repo)[0] == before[0]


def test_rescue_does_not_depend_on_commit_signing(repo: Path) -> None:
    git(repo, "config", "commit.gpgSign", "true")
    git(repo, "config", "gpg.program", "false")  # any signing attempt fails
    path = alloc(repo, "a1")
    write(path, "wip.txt", "wip\n")
    wt_json(repo, "release", "a1", "--state", "done")
    item = wt_json(repo, "gc")["worktrees"][0]
    assert item["action"] == "removed" and item["rescue"]
    assert git(repo, "show", f"refs/wt/rescue/{item['rescue']}:wip.txt") == "wip\n"


def test_a_worktree_that_keeps_changing_is_kept(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review finding: after the last look still differed, gc removed the worktree anyway."""
    from worktree_tools.worktrees import gc, rescue
    from worktree_tools.worktrees.common import open_repo

    path = alloc(repo, "a1")
    wt_json(repo, "release", "a1", "--state", "done")
    real = rescue.capture
    calls = []

    def capture_then_write(*args: object) -> rescue.Capture:
        cap = real(*args)  # type: ignore[arg-type]
        calls.append(cap)
        write(path, f"write-{len(calls)}.txt", "still writing\n")
        return cap

    monkeypatch.setattr(rescue, "capture", capture_then_write)
    item = gc.gc(open_repo(repo)).items[0]
    assert item.action == "failed" and "kept changing" in item.reason
    assert path.is_dir() and (path / f"write-{len(calls)}.txt").exists()
    assert rescues(repo)  # what was saved meanwhile stays saved


def test_a_change_during_removal_puts_the_worktree_back(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer holding the directory open (its cwd) writes after the last look: the check of
    the directory renamed aside sees it and gc puts the worktree back, untouched."""
    from worktree_tools.worktrees import gc, rescue
    from worktree_tools.worktrees.common import open_repo

    path = alloc(repo, "a1")
    write(path, "first.txt", "1\n")
    wt_json(repo, "release", "a1", "--state", "done")
    real = rescue.capture

    def write_when_aside(repo_: object, tree: object) -> rescue.Capture:
        top = tree.toplevel  # type: ignore[attr-defined]
        if top != path:  # the directory renamed aside: a late write lands in it
            (top / "late.txt").write_text("late\n")
        return real(repo_, tree)  # type: ignore[arg-type]

    monkeypatch.setattr(rescue, "capture", write_when_aside)
    item = gc.gc(open_repo(repo)).items[0]
    assert item.action == "failed" and "put back" in item.reason
    assert (path / "late.txt").read_text() == "late\n" and (path / "first.txt").exists()
    assert git(path, "status", "--porcelain")  # still a working git worktree
