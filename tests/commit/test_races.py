"""The race catalogue (docs/races.md) driven by the real pre-commit framework.

Each scenario is shown twice: `test_baseline_*` runs plain `git commit` with pre-commit installed
and asserts that the work IS lost (so a change in git or pre-commit that fixes a race shows up
here); `test_wt_*` runs the same sequence through wt-commit and asserts that nothing is lost.

Every repository has one `repo: local`, `language: system` hook: race-hook.sh, driven by the
environment of the committing process (git and wt-commit pass it through to the hook):
  RACE_ROLE  name used in the handshake files and the log
  RACE_FIX   a file the hook "formats" (needs fix -> fixed), like an auto-fixing formatter
  RACE_WAIT  handshake files (in $RACE_DIR) the hook waits for before it exits
The hook writes `started-<role>` once it has done its work, so the test knows the hook is running
(and pre-commit has already stashed and checked out); everything else is released by files, never
by sleeping for a fixed time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from conftest import WT_COMMIT, committed_files, git, head, status, write, wt_commit

HOOK = r"""#!/bin/sh
role="${RACE_ROLE:-none}"
if [ -n "$RACE_FIX" ] && grep -q 'needs fix' "$RACE_FIX"; then
    sed -i 's/needs fix/fixed/' "$RACE_FIX"
fi
echo "start $role" >> "$RACE_DIR/log"
touch "$RACE_DIR/started-$role"
for f in $RACE_WAIT; do
    i=0
    while [ ! -e "$RACE_DIR/$f" ]; do
        i=$((i+1)); [ $i -gt 600 ] && { echo "race-hook: no $f after 30 s" >&2; exit 1; }
        sleep 0.05
    done
done
echo "end $role" >> "$RACE_DIR/log"
exit 0
"""

CONFIG = """repos:
- repo: local
  hooks:
  - id: race
    name: race
    language: system
    entry: sh {hook}
    pass_filenames: false
    always_run: true
"""

BASE = "x1\nx2\nx3\n"


@dataclass
class Race:
    """A repository with pre-commit installed, and the handshake directory of its hook."""

    root: Path
    dir: Path

    def env(self, role: str, *, wait: str = "", fix: str = "") -> dict[str, str]:
        return {
            **os.environ,
            "RACE_DIR": os.fspath(self.dir),
            "RACE_ROLE": role,
            "RACE_WAIT": wait,
            "RACE_FIX": fix,
        }

    def start(
        self,
        argv: list[str],
        role: str,
        *,
        cwd: Path | None = None,
        wait: str = "",
        fix: str = "",
        session: bool = False,
    ) -> subprocess.Popen[bytes]:
        """Start a committer; its output goes to files (a killed process must not block on a
        pipe nobody reads)."""
        out = (self.dir / f"{role}.out").open("wb")
        err = (self.dir / f"{role}.err").open("wb")
        with out, err:
            return subprocess.Popen(
                argv,
                cwd=cwd or self.root,
                env=self.env(role, wait=wait, fix=fix),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=session,
            )

    def finish(self, proc: subprocess.Popen[bytes], role: str) -> tuple[int, str, str]:
        rc = proc.wait(timeout=60)
        return rc, self.output(role, "out"), self.output(role, "err")

    def output(self, role: str, kind: str) -> str:
        return (self.dir / f"{role}.{kind}").read_text(errors="replace")

    def started(self, role: str) -> None:
        wait_for(self.dir / f"started-{role}")

    def release(self, name: str) -> None:
        (self.dir / name).touch()

    def log(self) -> list[str]:
        path = self.dir / "log"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def race(repo: Path, tmp_path: Path) -> Iterator[Race]:
    """`repo` plus tracked a.txt, x.txt, y.txt and the pre-commit framework installed."""
    handshake = tmp_path / "race"
    handshake.mkdir()
    hook = tmp_path / "race-hook.sh"
    hook.write_text(HOOK)
    write(repo, ".pre-commit-config.yaml", CONFIG.format(hook=hook))
    for name in ("a.txt", "x.txt", "y.txt"):
        write(repo, name, BASE.replace("x", name[0]))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "pre-commit config")
    proc = subprocess.run(["pre-commit", "install"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield Race(repo, handshake)
    # Nothing a test started may outlive it (a hook waiting for a release file).
    for p in psutil.process_iter(["environ"]):
        try:
            if (p.info["environ"] or {}).get("RACE_DIR") == os.fspath(handshake):
                p.kill()
        except psutil.Error:
            continue


def wait_for(path: Path, timeout: float = 30) -> None:
    give_up = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > give_up:
            raise AssertionError(f"{path.name} never appeared")
        time.sleep(0.02)


def group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process is still in process group `pgid`."""
    for p in psutil.process_iter(["status"]):
        try:
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return False


def wait_group_gone(pgid: int, timeout: float = 30) -> None:
    give_up = time.monotonic() + timeout
    while group_alive(pgid):
        if time.monotonic() > give_up:
            raise AssertionError(f"process group {pgid} still running")
        time.sleep(0.05)


def cache_patches(home: str | None = None) -> dict[str, str]:
    """pre-commit's stashed patches (in its one per-user cache), by file name."""
    cache = Path(home or os.environ["PRE_COMMIT_HOME"])
    return {p.name: p.read_text(errors="replace") for p in sorted(cache.glob("patch*"))}


def read(root: Path, rel: str) -> str:
    return (root / rel).read_text()


def b_edits(text: str) -> str:
    """Agent B's edit: it changes line 1 of whatever it sees on disk."""
    lines = text.splitlines(keepends=True)
    lines[0] = lines[0].rstrip("\n") + " +B\n"
    return "".join(lines)


def wt_argv(*args: str) -> list[str]:
    return [WT_COMMIT, "--json", *args]


def as_json(text: str) -> dict[str, object]:
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


# ---------------------------------------------------------------------------------------------
# R6: two pre-commit runs in one worktree


def test_baseline_r6_two_hook_runs_in_one_worktree_loses_work(race: Race) -> None:
    """A's formatter fixes a.txt; B's pre-commit, started meanwhile in the same worktree, stashes
    that fix as "unstaged" and checks a.txt out again under A's hooks. A's pre-commit then sees no
    change, so A commits the unformatted file (and B's staged file with it); B's own commit then
    finds nothing to commit."""
    root = race.root
    write(root, "a.txt", "a needs fix\n")
    git(root, "add", "a.txt")
    a = race.start(["git", "commit", "-m", "A"], "A", wait="go-A", fix="a.txt")
    race.started("A")
    assert read(root, "a.txt") == "a fixed\n"  # the formatter did its work
    write(root, "b.txt", "b\n")
    git(root, "add", "b.txt")
    b = race.start(["git", "commit", "-m", "B"], "B", wait="go-B")
    race.started("B")
    assert read(root, "a.txt") == "a needs fix\n"  # B's checkout reverted A's fix
    race.release("go-A")
    rc_a, _, err_a = race.finish(a, "A")
    race.release("go-B")
    rc_b, out_b, _ = race.finish(b, "B")

    assert rc_a == 0, err_a  # A's check was defeated: it passed
    assert git(root, "log", "-1", "--format=%s", "main").strip() == "A"
    assert git(root, "show", "main:a.txt") == "a needs fix\n"  # the fix is not in the commit
    assert committed_files(root, "main") == ["a.txt", "b.txt"]  # and B's file went with A's
    # B's hooks pass, then git finds its file already committed (by A): nothing left to commit.
    assert rc_b == 1 and "no changes added to commit" in out_b, out_b


def test_wt_r6_hook_runs_in_one_worktree_take_turns(race: Race) -> None:
    root = race.root
    write(root, "a.txt", "a needs fix\n")
    write(root, "b.txt", "b\n")
    write(root, "x.txt", "x unstaged work of a third agent\n")
    a = race.start(wt_argv("-m", "A", "--", "a.txt"), "A", wait="go-A", fix="a.txt")
    race.started("A")
    b = race.start(wt_argv("-m", "B", "--", "b.txt"), "B")
    time.sleep(0.5)  # opens the window in which B would run its hooks if nothing stopped it
    assert race.log() == ["start A"]
    race.release("go-A")
    rc_a, out_a, err_a = race.finish(a, "A")
    rc_b, _, err_b = race.finish(b, "B")

    # The hook runs never overlapped: B's started only after A's ended.
    assert race.log() == ["start A", "end A", "start B", "end B"]
    # A's formatter changed the file it committed: the commit fails as under git, and the fix
    # is carried back to the live file (nobody changed it meanwhile).
    assert rc_a == 5, err_a
    assert as_json(out_a)["fixes_written"] == ["a.txt"]
    assert read(root, "a.txt") == "a fixed\n"
    assert rc_b == 0, err_b
    assert committed_files(root) == ["b.txt"]
    assert read(root, "x.txt") == "x unstaged work of a third agent\n"
    # A reviews the fix and commits again: the formatted file, alone.
    proc = wt_commit(root, "-m", "A", "--", "a.txt", env=race.env("A2"))
    assert proc.returncode == 0, proc.stderr
    assert committed_files(root) == ["a.txt"]
    assert git(root, "show", "HEAD:a.txt") == "a fixed\n"
    assert read(root, "x.txt") == "x unstaged work of a third agent\n"


# ---------------------------------------------------------------------------------------------
# R1: the rollback wipes a concurrent editor


def test_baseline_r1_rollback_after_concurrent_edit_loses_work(race: Race) -> None:
    root = race.root
    write(root, "x.txt", "x1 unstaged by A\nx2\nx3\n")
    write(root, "a.txt", "a committed by A\n")
    git(root, "add", "a.txt")
    a = race.start(["git", "commit", "-m", "A"], "A", wait="go")
    race.started("A")
    # B edits what it sees while A's hooks run.
    write(root, "x.txt", b_edits(read(root, "x.txt")))
    write(root, "y.txt", b_edits(read(root, "y.txt")))
    b_x, b_y = read(root, "x.txt"), read(root, "y.txt")
    race.release("go")
    rc, _, err = race.finish(a, "A")

    # pre-commit 4.7 blames the hook ("files were modified by this hook": B's edits changed the
    # diff it compares around each hook), so A fails rather than reporting success; the loss is
    # the same: the failed apply rolled back with `git checkout -- .`.
    assert rc == 1 and "files were modified by this hook" in err, err
    assert "Rolling back fixes" in err
    assert read(root, "y.txt") == BASE.replace("x", "y") != b_y  # B's edit of y: gone
    assert read(root, "x.txt") == "x1 unstaged by A\nx2\nx3\n" != b_x  # B's edit of x: gone


def test_wt_r1_concurrent_edit_during_hooks_survives(race: Race) -> None:
    root = race.root
    write(root, "x.txt", "x1 unstaged by A\nx2\nx3\n")
    write(root, "a.txt", "a committed by A\n")
    a = race.start(wt_argv("-m", "A", "--", "a.txt"), "A", wait="go")
    race.started("A")
    assert read(root, "x.txt") == "x1 unstaged by A\nx2\nx3\n"  # not stashed away
    write(root, "x.txt", b_edits(read(root, "x.txt")))
    write(root, "y.txt", b_edits(read(root, "y.txt")))
    race.release("go")
    rc, out, err = race.finish(a, "A")

    assert rc == 0, err
    assert as_json(out)["hook_mode"] == "isolated"
    assert committed_files(root) == ["a.txt"]
    assert read(root, "x.txt") == "x1 unstaged by A +B\nx2\nx3\n"
    assert read(root, "y.txt") == "y1 +B\ny2\ny3\n"


# ---------------------------------------------------------------------------------------------
# R2/R3: a commit killed mid-hook


def _start_killable_git_commit(race: Race) -> subprocess.Popen[bytes]:
    root = race.root
    write(root, "x.txt", "x1 unstaged work\nx2\nx3\n")
    write(root, "a.txt", "a committed\n")
    git(root, "add", "a.txt")
    a = race.start(["git", "commit", "-m", "A"], "A", wait="go", session=True)
    race.started("A")
    return a


def test_baseline_r3_commit_killed_mid_hook_loses_work(race: Race) -> None:
    """The agent's whole process group is killed while the hook runs: the unstaged work exists
    only in pre-commit's cache patch and `git status` does not mention the file."""
    root = race.root
    a = _start_killable_git_commit(race)
    assert read(root, "x.txt") == BASE  # pre-commit has stashed it
    os.killpg(a.pid, signal.SIGKILL)
    a.wait(timeout=30)
    wait_group_gone(a.pid)

    assert read(root, "x.txt") == BASE
    assert "x.txt" not in status(root)
    stranded = [n for n, text in cache_patches().items() if "+x1 unstaged work" in text]
    assert len(stranded) == 1, "the work now lives only in pre-commit's cache"


def test_baseline_r2_orphaned_hook_restores_over_new_edit_loses_work(race: Race) -> None:
    """Only `git commit` is killed; the orphaned pre-commit keeps running. The agent edits x.txt
    again; the orphan's late restore conflicts, rolls back, and the new edit is gone."""
    root = race.root
    a = _start_killable_git_commit(race)
    os.kill(a.pid, signal.SIGKILL)
    a.wait(timeout=30)
    assert group_alive(a.pid), "the hook outlived its committer"
    new_edit = "x1 edited again after the kill\nx2\nx3\n"
    write(root, "x.txt", new_edit)
    race.release("go")
    wait_group_gone(a.pid)

    assert read(root, "x.txt") == "x1 unstaged work\nx2\nx3\n" != new_edit


def test_wt_r2_r3_commit_killed_mid_hook_loses_nothing_and_orphan_is_reaped(race: Race) -> None:
    root = race.root
    write(root, "x.txt", "x1 unstaged work\nx2\nx3\n")
    write(root, "a.txt", "a committed\n")
    tip = head(root)
    a = race.start(wt_argv("-m", "A", "--", "a.txt"), "A", wait="go", session=True)
    race.started("A")
    gitdir = Path(git(root, "rev-parse", "--absolute-git-dir").strip())
    record = json.loads((gitdir / "wt-hooks.json").read_text())
    os.killpg(a.pid, signal.SIGKILL)  # the committer and everything in its group
    a.wait(timeout=30)
    hook_group = int(record["pgid"])
    assert group_alive(hook_group), "the hook is orphaned, still running"

    # The live tree was never touched: the work is on disk, not only in a cache patch.
    assert read(root, "x.txt") == "x1 unstaged work\nx2\nx3\n"
    assert " M x.txt" in status(root)
    assert not [n for n, text in cache_patches().items() if "x1 unstaged work" in text]
    assert head(root) == tip  # and nothing was committed

    # The agent edits again; its next commit ends the orphan before it could restore anything.
    write(root, "x.txt", "x1 edited again after the kill\nx2\nx3\n")
    write(root, "b.txt", "b\n")
    proc = wt_commit(root, "-m", "B", "--", "b.txt", env=race.env("B"))
    assert proc.returncode == 0, proc.stderr
    assert "orphaned" in proc.stderr
    assert not group_alive(hook_group)
    race.release("go")  # too late for the orphan: it is gone
    assert committed_files(root) == ["b.txt"]
    assert read(root, "x.txt") == "x1 edited again after the kill\nx2\nx3\n"
    assert read(root, "a.txt") == "a committed\n"
    proc = wt_commit(root, "-m", "A", "--", "a.txt", env=race.env("A2"))
    assert proc.returncode == 0, proc.stderr
    assert committed_files(root) == ["a.txt"]


# ---------------------------------------------------------------------------------------------
# R4: the index moves under the stash


def test_baseline_r4_index_moved_under_the_stash_loses_work(race: Race) -> None:
    """B stages its edit of x.txt during A's hooks. A's patch no longer applies, the rollback
    checks out the moved index and the second apply fails too: pre-commit crashes and the
    unstaged work is stranded in its cache."""
    root = race.root
    unstaged = "x1 unstaged work\nx2\nx3\n"
    write(root, "x.txt", unstaged)
    write(root, "a.txt", "a committed\n")
    git(root, "add", "a.txt")
    a = race.start(["git", "commit", "-m", "A"], "A", wait="go")
    race.started("A")
    b_version = b_edits(read(root, "x.txt"))  # B sees HEAD's x.txt: the work is stashed
    write(root, "x.txt", b_version)
    git(root, "add", "x.txt")
    race.release("go")
    rc, out, err = race.finish(a, "A")

    assert rc != 0, "A's commit fails"
    assert read(root, "x.txt") == b_version
    assert "unstaged work" not in git(root, "show", ":x.txt") + read(root, "x.txt")
    stranded = [n for n, text in cache_patches().items() if "+x1 unstaged work" in text]
    assert len(stranded) == 1, out + err


def test_wt_r4_index_moved_during_hooks_loses_nothing(race: Race) -> None:
    root = race.root
    write(root, "x.txt", "x1 unstaged work\nx2\nx3\n")
    write(root, "a.txt", "a committed\n")
    a = race.start(wt_argv("-m", "A", "--", "a.txt"), "A", wait="go")
    race.started("A")
    b_version = b_edits(read(root, "x.txt"))  # B sees the work and builds on it
    write(root, "x.txt", b_version)
    git(root, "add", "x.txt")  # the index is free while wt-commit's hooks run
    race.release("go")
    rc, _, err = race.finish(a, "A")

    assert rc == 0, err
    assert committed_files(root) == ["a.txt"]
    assert b_version == "x1 unstaged work +B\nx2\nx3\n"
    assert read(root, "x.txt") == b_version
    assert git(root, "show", ":x.txt") == b_version  # B's staged change survived A's landing
    assert not cache_patches()


# ---------------------------------------------------------------------------------------------
# R12: a private index meets pre-commit's checkout


def _r12_setup(root: Path) -> None:
    write(root, "y.txt", "y staged by B\n")
    git(root, "add", "y.txt")
    write(root, "x.txt", "x1 B v1\nx2\nx3\n")
    write(root, "a.txt", "a committed by A\n")


def test_baseline_r12_private_index_checkout_loses_work(race: Race) -> None:
    """`git commit -- a.txt` runs pre-commit under a private index (HEAD + a.txt): its checkout
    writes HEAD's content over B's files for the length of the hooks, and B's next edit made in
    that window is wiped by the rollback."""
    root = race.root
    _r12_setup(root)
    a = race.start(["git", "commit", "-m", "A", "--", "a.txt"], "A", wait="go")
    race.started("A")
    seen = read(root, "x.txt"), read(root, "y.txt")
    write(root, "x.txt", "x1 B v2\nx2\nx3\n")
    race.release("go")
    rc, _, err = race.finish(a, "A")

    assert seen == (BASE, BASE.replace("x", "y"))  # B's live files showed HEAD's content
    assert read(root, "x.txt") == "x1 B v1\nx2\nx3\n"  # v2 lost; v1 came back from the patch
    assert git(root, "show", ":y.txt") == "y staged by B\n"
    # As in R1, pre-commit 4.7 then blames the hook for B's edit: A's commit fails.
    assert rc == 1 and "Rolling back fixes" in err, err


def test_wt_r12_isolated_hooks_never_touch_the_live_tree(race: Race) -> None:
    root = race.root
    _r12_setup(root)
    a = race.start(wt_argv("-m", "A", "--", "a.txt"), "A", wait="go")
    race.started("A")
    seen = read(root, "x.txt"), read(root, "y.txt")
    write(root, "x.txt", "x1 B v2\nx2\nx3\n")
    race.release("go")
    rc, out, err = race.finish(a, "A")

    assert rc == 0, err
    assert as_json(out)["hook_mode"] == "isolated"
    assert seen == ("x1 B v1\nx2\nx3\n", "y staged by B\n")
    assert read(root, "x.txt") == "x1 B v2\nx2\nx3\n"
    assert git(root, "show", ":y.txt") == "y staged by B\n"
    assert committed_files(root) == ["a.txt"]


# ---------------------------------------------------------------------------------------------
# R9: the loser of a compare-and-swap


def _same_branch_twice(race: Race, tmp: Path) -> Path:
    """A second worktree on the branch the main worktree has checked out (`--force`)."""
    other = tmp / "other"
    git(race.root, "worktree", "add", "-q", "--force", os.fspath(other), "main")
    return other


def _both_built_on_the_tip(
    race: Race, argv_a: list[str], argv_b: list[str], other: Path
) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """Run A (main worktree) and B (`other`) at once; each hook waits until both hooks run, so
    both commits are built on the same tip."""
    a = race.start(argv_a, "A", wait="started-B")
    b = race.start(argv_b, "B", cwd=other, wait="started-A")
    return race.finish(a, "A"), race.finish(b, "B")


def test_baseline_r9_compare_and_swap_loser_retrying_blindly_loses_work(
    race: Race, tmp_path: Path
) -> None:
    root = race.root
    other = _same_branch_twice(race, tmp_path)
    tip = head(root)
    write(root, "a.txt", "a by A\n")
    git(root, "add", "a.txt")
    write(other, "b.txt", "b by B\n")
    git(other, "add", "b.txt")
    ra, rb = _both_built_on_the_tip(
        race, ["git", "commit", "-m", "A"], ["git", "commit", "-m", "B"], other
    )
    # git's own swap is safe: exactly one wins, the loser is refused.
    assert sorted([ra[0], rb[0]])[0] == 0 and sorted([ra[0], rb[0]])[1] != 0, (ra, rb)
    a_won = ra[0] == 0
    loser = other if a_won else root
    assert "cannot lock ref" in (rb if a_won else ra)[2]
    assert head(root, "main^") == tip
    # The loser retries the same command: it commits its stale index on the new tip.
    proc = subprocess.run(
        ["git", "commit", "-m", "retry"], cwd=loser, env=race.env("retry"), capture_output=True
    )
    assert proc.returncode == 0, proc.stderr
    assert head(root, "main~2") == tip
    on_main = {rel: git(root, "show", f"main:{rel}", check=False) for rel in ("a.txt", "b.txt")}
    assert on_main["b.txt" if a_won else "a.txt"].endswith("by B\n" if a_won else "by A\n")
    # The winner's change is silently undone on the branch.
    if a_won:
        assert on_main["a.txt"] == BASE.replace("x", "a")
    else:
        assert on_main["b.txt"] == ""


def test_wt_r9_compare_and_swap_loser_replays(race: Race, tmp_path: Path) -> None:
    root = race.root
    other = _same_branch_twice(race, tmp_path)
    tip = head(root)
    write(root, "a.txt", "a by A\n")
    write(other, "b.txt", "b by B\n")
    ra, rb = _both_built_on_the_tip(
        race, wt_argv("-m", "A", "--", "a.txt"), wt_argv("-m", "B", "--", "b.txt"), other
    )
    assert ra[0] == 0 and rb[0] == 0, (ra, rb)
    replays = sorted(int(as_json(r[1])["replays"]) for r in (ra, rb))  # type: ignore[call-overload]
    assert replays == [0, 1]
    assert head(root, "main~2") == tip
    assert git(root, "show", "main:a.txt") == "a by A\n"
    assert git(root, "show", "main:b.txt") == "b by B\n"
    assert sorted(committed_files(root, "main") + committed_files(root, "main~1")) == [
        "a.txt",
        "b.txt",
    ]


def test_wt_r9_compare_and_swap_loser_on_the_same_path_is_a_conflict(
    race: Race, tmp_path: Path
) -> None:
    root = race.root
    other = _same_branch_twice(race, tmp_path)
    tip = head(root)
    write(root, "c.txt", "c by A\n")
    write(other, "c.txt", "c by B\n")
    ra, rb = _both_built_on_the_tip(
        race, wt_argv("-m", "A", "--", "c.txt"), wt_argv("-m", "B", "--", "c.txt"), other
    )
    assert sorted([ra[0], rb[0]]) == [0, 4], (ra, rb)
    winner, loser = ("A", "B") if ra[0] == 0 else ("B", "A")
    assert as_json((rb if ra[0] == 0 else ra)[1])["outcome"] == "conflict"
    assert head(root, "main^") == tip  # one commit landed; nothing was forced over it
    assert git(root, "show", "main:c.txt") == f"c by {winner}\n"
    assert read(root if loser == "A" else other, "c.txt") == f"c by {loser}\n"  # still on disk


# ---------------------------------------------------------------------------------------------
# R10: a branch advanced under its own checkout


def _advance_main_behind_the_worktree(root: Path) -> str:
    """Another actor adds o.txt to main with plumbing (own index, compare-and-swap)."""
    tip = head(root)
    env = {"GIT_INDEX_FILE": os.fspath(root.parent / "other-index")}
    git(root, "read-tree", tip, env=env)
    blob = git(root, "hash-object", "-w", "--stdin", input=b"o by another agent\n").strip()
    git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},o.txt", env=env)
    tree = git(root, "write-tree", env=env).strip()
    new = git(root, "commit-tree", tree, "-p", tip, "-m", "other agent").strip()
    git(root, "update-ref", "refs/heads/main", new, tip)
    return new


def test_baseline_r10_branch_advanced_under_its_checkout_loses_work(race: Race) -> None:
    root = race.root
    write(root, "a.txt", "a by W\n")
    other = _advance_main_behind_the_worktree(root)
    proc = subprocess.run(
        ["git", "commit", "-a", "-m", "W"], cwd=root, env=race.env("W"), capture_output=True
    )
    assert proc.returncode == 0, proc.stderr
    assert head(root, "HEAD^") == other
    assert "o.txt" not in git(root, "ls-tree", "--name-only", "HEAD").split()  # silently undone
    assert committed_files(root) == ["a.txt", "o.txt"]


def test_wt_r10_branch_advanced_under_its_checkout_keeps_the_other_change(race: Race) -> None:
    root = race.root
    write(root, "a.txt", "a by W\n")
    other = _advance_main_behind_the_worktree(root)
    proc = wt_commit(root, "-m", "W", "--", "a.txt", env=race.env("W"))
    assert proc.returncode == 0, proc.stderr
    assert head(root, "HEAD^") == other
    assert committed_files(root) == ["a.txt"]
    assert git(root, "show", "HEAD:o.txt") == "o by another agent\n"
