"""gc against what hides work: index flags, stat cache, filters, live writers, killed runs,
stale records whose path is someone else's now, and worktrees moved by hand (issue 10)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import GIT_WT, git, git_wt, write

from .helpers import alloc, files_of, kill, record_path, rescues, spawn_owner, wt_json

WRITER = r"""
import os, sys, time
log, stop = sys.argv[1], sys.argv[2]
i = 0
with open(log, "a") as out:
    while not os.path.exists(stop):
        name = f"w-{i}.txt"
        with open(name, "w") as fh:
            fh.write(f"{i}\n")
        out.write(name + "\n")
        out.flush()
        i += 1
        time.sleep(0.005)
"""


class Writer:
    """A real process whose current directory is inside a worktree, writing files there."""

    def __init__(self, cwd: Path, tmp: Path, tag: str) -> None:
        self.log = tmp / f"writer-{tag}.log"
        self.stop_file = tmp / f"writer-{tag}.stop"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, self.log, self.stop_file], cwd=cwd
        )

    def wait_for(self, count: int) -> None:
        while len(self.names()) < count:
            assert self.proc.poll() is None
            time.sleep(0.01)

    def names(self) -> list[str]:
        return self.log.read_text().split() if self.log.exists() else []

    def stop(self) -> list[str]:
        self.stop_file.touch()
        assert self.proc.wait(timeout=60) == 0
        return self.names()


def saved_anywhere(repo: Path, name: str, places: list[Path]) -> bool:
    """The writer's file `name` (content "<i>\n") is on disk in one of `places` or in a rescue."""
    want = name[2:-4] + "\n"
    for place in places:
        if (place / name).is_file() and (place / name).read_text() == want:
            return True
    for item in rescues(repo):
        res = subprocess.run(
            ["git", "show", f"{item['ref']}:{name}"], cwd=repo, capture_output=True
        )
        if res.returncode == 0 and res.stdout.decode() == want:
            return True
    return False


def pause_env(marks: Path, point: str) -> dict[str, str]:
    return {**os.environ, "WT_FAULT_PAUSE": point, "WT_FAULT_DIR": os.fspath(marks)}


def wait_reached(proc: subprocess.Popen[bytes], marks: Path, point: str) -> None:
    while not (marks / f"{point}.reached").exists():
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)


def asides(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.wt-gc-*"))


# ---- 1. work judged by content --------------------------------------------------------------


def test_edits_hidden_by_index_flags_and_stat_cache_are_saved(repo: Path, tmp_path: Path) -> None:
    path = alloc(repo, "au", "--ttl", "1")
    write(path, "README", "precious, hidden by --assume-unchanged\n")
    git(path, "update-index", "--assume-unchanged", "README")
    write(path, "src/app.py", "print('hidden by --skip-worktree')\n")
    git(path, "update-index", "--skip-worktree", "src/app.py")
    # the stat cache: same size, same mtime (ctime not trusted), so git does not look inside
    git(repo, "config", "core.trustctime", "false")
    git(repo, "config", "core.checkStat", "minimal")
    same = write(path, "same.txt", "aaaa\n")
    os.utime(same, (time.time() - 100, time.time() - 100))
    git(path, "add", "same.txt")
    git(path, "commit", "-qm", "same")
    st = same.stat()
    same.write_text("bbbb\n")
    os.utime(same, ns=(st.st_atime_ns, st.st_mtime_ns))
    write(path, ".gitignore", ".env\nnode_modules/\n")
    write(path, ".env", "TOKEN=only-copy\n")  # ignored, but nobody can regenerate it
    write(path, "node_modules/pkg/index.js", "regenerable\n")
    assert git(path, "status", "--porcelain", "--untracked-files=no") == ""  # git sees nothing
    before = files_of(path)
    time.sleep(1.2)
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    item = json.loads(res.stdout)["worktrees"][0]
    assert item["action"] == "removed" and item["rescue"], item
    assert "node_modules/" in res.stderr
    ref = f"refs/wt/rescue/{item['rescue']}"
    assert git(repo, "show", f"{ref}:README") == "precious, hidden by --assume-unchanged\n"
    assert git(repo, "show", f"{ref}:src/app.py") == "print('hidden by --skip-worktree')\n"
    assert git(repo, "show", f"{ref}:same.txt") == "bbbb\n"
    assert git(repo, "show", f"{ref}:.env") == "TOKEN=only-copy\n"
    out = wt_json(repo, "rescue", "restore", item["rescue"], "--to", str(tmp_path / "back"))
    del before["node_modules/pkg/index.js"]
    assert files_of(Path(out["worktree"])) == before


def test_a_clean_worktree_under_autocrlf_needs_no_rescue(repo: Path) -> None:
    """Bytes a checkout of HEAD writes (CRLF under core.autocrlf) are not work."""
    git(repo, "config", "core.autocrlf", "true")
    path = alloc(repo, "a1")
    assert (path / "README").read_bytes() == b"hello\r\n"
    wt_json(repo, "release", "a1", "--state", "done")
    item = wt_json(repo, "gc")["worktrees"][0]
    assert item["action"] == "removed" and item["rescue"] is None


# ---- 5. restore writes the saved bytes --------------------------------------------------------


def test_restore_writes_back_the_saved_bytes_whatever_filters_say(
    repo: Path, tmp_path: Path
) -> None:
    write(
        repo,
        ".gitattributes",
        "*.txt text eol=crlf\n*.id ident\n*.up filter=upper\n*.lf text eol=lf\n",
    )
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-qm", "attributes")
    git(repo, "config", "core.autocrlf", "true")
    git(repo, "config", "filter.upper.clean", "tr a-z A-Z")
    git(repo, "config", "filter.upper.smudge", "tr A-Z a-z")
    path = alloc(repo, "a1")
    write(path, "lf.txt", b"one\ntwo\n")  # checkout would write CRLF
    write(path, "crlf.lf", b"one\r\ntwo\r\n")  # clean would store LF
    write(path, "x.id", b"$Id: hand-written, not a hash $\n")  # clean would collapse it
    write(path, "x.up", b"MiXeD case\n")  # clean and smudge both change it
    write(path, "bin.dat", b"\x00\r\n\xff")
    before = files_of(path)
    wt_json(repo, "release", "a1", "--state", "done")
    item = wt_json(repo, "gc")["worktrees"][0]
    assert item["rescue"], item
    dest = tmp_path / "restored"
    wt_json(repo, "rescue", "restore", item["rescue"], "--to", str(dest))
    assert files_of(dest) == before


# ---- 2. live writers and killed runs ------------------------------------------------------


def test_a_writer_inside_the_worktree_during_the_rename_loses_nothing(
    repo: Path, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    owner = spawn_owner()
    path = alloc(repo, "a1", owner=owner.pid)
    write(path, "mine.txt", "mine\n")
    kill(owner)
    gc = subprocess.Popen(
        [GIT_WT, "gc", "--json"],
        cwd=repo,
        env=pause_env(marks, "wt-gc-renaming"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_reached(gc, marks, "wt-gc-renaming")  # checked, about to rename: a writer comes in
    writer = Writer(path, tmp_path, "in")
    writer.wait_for(3)
    (marks / "wt-gc-renaming.go").touch()
    _out, err = gc.communicate(timeout=120)
    assert gc.returncode == 3, err  # skipped: someone works in it
    assert b"working in it" in err and b"internal error" not in err
    names = writer.stop()
    assert path.is_dir() and asides(path) == []
    assert all(saved_anywhere(repo, n, [path]) for n in names)
    assert (path / "mine.txt").read_text() == "mine\n"
    assert git(path, "status", "--porcelain")  # still a worktree
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    assert not path.exists()
    assert all(saved_anywhere(repo, n, []) for n in names)


def test_a_writer_that_enters_while_gc_deletes_keeps_every_file(repo: Path, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    owner = spawn_owner()
    path = alloc(repo, "a1", owner=owner.pid)
    for i in range(5):
        write(path, f"f{i}.txt", f"{i}\n")
    kill(owner)
    gc = subprocess.Popen(
        [GIT_WT, "gc", "--json"],
        cwd=repo,
        env=pause_env(marks, "wt-gc-deleting"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_reached(gc, marks, "wt-gc-deleting")
    [aside] = asides(path)
    writer = Writer(aside, tmp_path, "late")
    writer.wait_for(3)
    (marks / "wt-gc-deleting.go").touch()
    out, err = gc.communicate(timeout=120)
    assert gc.returncode == 7, err  # attention: a directory still being written stays
    assert json.loads(out)["outcome"] == "attention"
    assert b"internal error" not in err and b"left" in err
    assert aside.is_dir()  # the writer is still in it: left in place, reported
    assert any(f["kind"] == "gc_leftover" for f in wt_json(repo, "doctor", expect=7)["findings"])
    names = writer.stop()
    assert all(saved_anywhere(repo, n, [aside]) for n in names)
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    assert not aside.exists() and asides(path) == []
    assert all(saved_anywhere(repo, n, []) for n in names)
    assert wt_json(repo, "doctor")["findings"] == []


def test_gc_killed_after_renaming_aside_is_found_reported_and_finished(
    repo: Path, tmp_path: Path
) -> None:
    for point in ("wt-gc-aside", "wt-gc-deleting"):
        owner = spawn_owner()
        path = alloc(repo, "a1", owner=owner.pid)
        write(path, "mine.txt", f"mine {point}\n")
        write(path, "more.txt", "more\n")
        kill(owner)
        crashed = git_wt(repo, "gc", env={"WT_FAULT": point})
        assert crashed.returncode == -9, crashed.stderr
        [aside] = asides(path)
        found = wt_json(repo, "doctor", expect=7)["findings"]
        assert [f["subject"] for f in found if f["kind"] == "gc_leftover"] == [str(aside)]
        watched = json.loads(git_wt(repo, "watch", "--once", "--json").stdout)
        assert ("gc_leftover", str(aside)) in {
            (f["kind"], f["subject"]) for f in watched["findings"]
        }
        res = git_wt(repo, "gc", "--json")
        assert res.returncode == 0, res.stderr
        assert "did not finish" in res.stderr or "did not finish" in res.stdout
        assert not path.exists() and asides(path) == []
        assert not record_path(repo, "a1").exists()
        newest = max(rescues(repo), key=lambda r: str(r["id"]))
        restored = wt_json(
            repo, "rescue", "restore", str(newest["id"]), "--to", str(tmp_path / point)
        )
        assert (Path(restored["worktree"]) / "mine.txt").read_text() == f"mine {point}\n"
        assert wt_json(repo, "doctor")["findings"] == []
        git(repo, "branch", "-D", "wt/a1", check=False)


def test_a_leftover_of_an_older_gc_without_marker_is_saved(repo: Path) -> None:
    path = alloc(repo, "a1")
    aside = path.parent / ".gone.wt-gc-4194300"  # named as gc names it; that pid is not running
    write(aside, "only-copy.txt", "precious\n")
    findings = wt_json(repo, "doctor", expect=7)["findings"]
    assert [f["subject"] for f in findings if f["kind"] == "gc_leftover"] == [str(aside)]
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    assert not aside.exists()
    [saved] = rescues(repo)
    assert git(repo, "show", f"{saved['ref']}:only-copy.txt") == "precious\n"


# ---- 3. never another worktree's directory --------------------------------------------------


def test_a_stale_record_never_removes_the_worktree_now_at_its_path(
    repo: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    owner = spawn_owner()
    alloc(repo, "a1", "--path", str(shared), owner=owner.pid)
    kill(owner)
    # a1's directory goes by hand, git forgets it, and the path is given to b1
    git(repo, "worktree", "unlock", str(shared))
    git(repo, "worktree", "remove", "--force", str(shared))
    live = spawn_owner()
    try:
        alloc(repo, "b1", "--path", str(shared), owner=live.pid)
        write(shared, "b-work.txt", "b1's uncommitted work\n")
        res = git_wt(repo, "gc", "--json")
        assert res.returncode == 0, res.stderr
        items = {i["agent"]: i for i in json.loads(res.stdout)["worktrees"]}
        assert items["a1"]["action"] == "removed" and items["b1"]["action"] == "kept"
        assert (shared / "b-work.txt").read_text() == "b1's uncommitted work\n"
        assert git(shared, "status", "--porcelain")
        assert record_path(repo, "b1").exists() and not record_path(repo, "a1").exists()
        assert str(shared) in git(repo, "worktree", "list")
    finally:
        kill(live)


def test_a_record_naming_the_main_worktree_never_removes_it(repo: Path) -> None:
    owner = spawn_owner()
    alloc(repo, "a1", owner=owner.pid)
    kill(owner)
    data = json.loads(record_path(repo, "a1").read_text())
    data["path"] = str(repo)
    record_path(repo, "a1").write_text(json.dumps(data))
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    assert (repo / "README").read_text() == "hello\n" and (repo / ".git").is_dir()
    assert git(repo, "status", "--porcelain") == ""


# ---- 4. moved by hand -------------------------------------------------------------------------


def test_a_worktree_moved_far_away_is_kept_usable(repo: Path, tmp_path: Path) -> None:
    owner = spawn_owner()
    path = alloc(repo, "a1", owner=owner.pid)
    write(path, "staged.txt", "staged\n")
    git(path, "add", "staged.txt")
    kill(owner)
    far = tmp_path / "far" / "away" / "a1"
    far.parent.mkdir(parents=True)
    os.rename(path, far)
    row = wt_json(repo, "status", "a1")["worktrees"][0]
    assert row["missing"] is True and row["moved"] is True
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    item = json.loads(res.stdout)["worktrees"][0]
    assert item["action"] == "kept" and "moved" in item["reason"], item
    assert git(far, "status", "--porcelain") == "A  staged.txt\n"
    assert record_path(repo, "a1").exists()


def test_a_worktree_moved_next_door_is_found_and_repaired(repo: Path, tmp_path: Path) -> None:
    path = alloc(repo, "a1", "--path", str(tmp_path / "a1"))
    write(path, "staged.txt", "staged\n")
    git(path, "add", "staged.txt")
    wt_json(repo, "release", "a1", "--state", "done")
    moved = tmp_path / "a1-renamed"
    os.rename(path, moved)
    res = wt_json(repo, "gc")
    assert res["worktrees"][0]["moved_to"] == str(moved)
    assert git(moved, "status", "--porcelain") == "A  staged.txt\n"
    assert str(moved) in git(repo, "worktree", "list")
    assert json.loads(record_path(repo, "a1").read_text())["path"] == str(moved)


def test_an_unmanaged_worktree_moved_by_hand_is_not_pruned(repo: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    git(repo, "worktree", "add", "-q", str(plain))
    write(plain, "staged.txt", "staged\n")
    git(plain, "add", "staged.txt")
    wt_json(repo, "gc")  # sees it in place
    far = tmp_path / "x" / "y" / "z"
    far.mkdir(parents=True)
    os.rename(plain, far / "plain")
    rows = [r for r in wt_json(repo, "list")["worktrees"] if r["worktree"] == str(plain)]
    assert rows and rows[0]["moved"] is True
    res = wt_json(repo, "gc")
    assert res["moved"] == [{"worktree": str(plain), "moved_to": None}]
    assert git(far / "plain", "status", "--porcelain") == "A  staged.txt\n"


def test_a_forged_gc_marker_never_gets_a_directory_touched(repo: Path, tmp_path: Path) -> None:
    """Markers are state like any other: one naming a directory gc would never have renamed
    aside (or one that cannot be read) is reported, never acted on."""
    precious = tmp_path / "precious"
    write(precious, "keep.txt", "keep\n")
    markers = repo / ".git" / "wt" / "gc-aside"
    markers.mkdir(parents=True)
    forged = {
        "aside": str(precious),
        "path": str(tmp_path / "other"),
        "agent": "a1",
        "admin_dir": None,
        "pid": 4194300,
        "started": None,
        "host": os.uname().nodename,
        "phase": "deleting",
    }
    (markers / "forged.json").write_text(json.dumps(forged))
    (markers / "torn.json").write_text('{"aside": ')
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    assert (precious / "keep.txt").read_text() == "keep\n"
    assert not (tmp_path / "other").exists() and rescues(repo) == []
    found = wt_json(repo, "doctor", expect=7)["findings"]
    subjects = {f["subject"] for f in found if f["kind"] == "gc_leftover"}
    assert subjects == {str(markers / "forged.json"), str(markers / "torn.json")}


def test_an_unmanaged_worktree_moved_into_a_new_folder_is_found(repo: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    git(repo, "worktree", "add", "-q", str(plain))
    write(plain, "staged.txt", "staged\n")
    git(plain, "add", "staged.txt")
    (tmp_path / "archive").mkdir()
    os.rename(plain, tmp_path / "archive" / "plain")  # no gc has seen it before
    res = wt_json(repo, "gc")
    assert res["moved"] == [
        {"worktree": str(plain), "moved_to": str(tmp_path / "archive" / "plain")}
    ]
    assert git(tmp_path / "archive" / "plain", "status", "--porcelain") == "A  staged.txt\n"
    assert str(tmp_path / "archive" / "plain") in git(repo, "worktree", "list")


def test_fifos_and_sockets_hold_no_work_and_never_block_removal(repo: Path) -> None:
    import socket

    path = alloc(repo, "a1")
    write(path, "work.txt", "work\n")
    os.mkfifo(path / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path / "agent.sock"))
    sock.close()
    wt_json(repo, "release", "a1", "--state", "done")
    res = git_wt(repo, "gc", "--json")
    assert res.returncode == 0, res.stderr
    assert not path.exists() and asides(path) == []
    [saved] = rescues(repo)
    assert git(repo, "show", f"{saved['ref']}:work.txt") == "work\n"
