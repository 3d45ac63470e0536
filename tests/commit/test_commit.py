"""wt-commit semantics against real repositories: exactly the named paths, nobody else's work."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    committed_files,
    git,
    head,
    run_in_fresh_python,
    snapshot,
    status,
    write,
    wt_commit,
)


def as_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def staged_entries(repo: Path) -> str:
    return git(repo, "diff", "--cached", "--raw", "--no-renames")


def test_commits_only_named_paths_and_keeps_others_staged_and_dirty(repo: Path) -> None:
    write(repo, "mine.txt", "mine\n")
    write(repo, "theirs_staged.txt", "staged by another agent\n")
    git(repo, "add", "theirs_staged.txt")
    write(repo, "README", "hello\nedited by someone, not staged\n")
    before_staged = staged_entries(repo)

    proc = wt_commit(repo, "--json", "-m", "add mine", "--", "mine.txt")

    assert proc.returncode == 0, proc.stderr
    out = as_json(proc)
    assert out["outcome"] == "committed"
    assert out["paths"] == ["mine.txt"]
    assert out["branch"] == "main"
    assert out["commit"] == head(repo)
    assert committed_files(repo) == ["mine.txt"]
    assert staged_entries(repo) == before_staged  # their staged file is still staged, same blob
    assert (repo / "README").read_text() == "hello\nedited by someone, not staged\n"
    porcelain = status(repo)
    assert " M README\0" in porcelain
    assert "A  theirs_staged.txt\0" in porcelain
    assert "mine.txt" not in porcelain  # committed path shows clean


def test_modified_deleted_and_directory_paths(repo: Path) -> None:
    write(repo, "src/app.py", "print('v2')\n")
    write(repo, "src/new/mod.py", "x = 1\n")
    write(repo, "src/new/data.bin", bytes(range(256)))
    (repo / "README").unlink()

    proc = wt_commit(repo, "-m", "several", "--", "src", "README")

    assert proc.returncode == 0, proc.stderr
    assert committed_files(repo) == ["README", "src/app.py", "src/new/data.bin", "src/new/mod.py"]
    assert git(repo, "show", "HEAD:src/new/data.bin", env=None).encode(
        "utf-8", "surrogateescape"
    ) == bytes(range(256))
    assert "README" not in git(repo, "ls-files")
    assert status(repo) == ""


def test_directory_respects_gitignore(repo: Path) -> None:
    write(repo, ".gitignore", "*.log\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore logs")
    write(repo, "out/keep.txt", "keep\n")
    write(repo, "out/noise.log", "noise\n")
    proc = wt_commit(repo, "-m", "out", "--", "out")
    assert proc.returncode == 0, proc.stderr
    assert committed_files(repo) == ["out/keep.txt"]


def test_idempotent_retry_is_unchanged_and_makes_no_commit(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    first = wt_commit(repo, "--json", "-m", "a", "--", "a.txt")
    assert first.returncode == 0
    tip = head(repo)
    again = wt_commit(repo, "--json", "-m", "a", "--", "a.txt")
    assert again.returncode == 0, again.stderr
    assert as_json(again)["outcome"] == "unchanged"
    assert head(repo) == tip


def test_unchanged_retry_repairs_an_index_left_behind(repo: Path) -> None:
    """After a crash between the branch move and the index sync, a retry makes the paths clean."""
    write(repo, "a.txt", "a\n")
    assert wt_commit(repo, "-m", "a", "--", "a.txt").returncode == 0
    git(repo, "rm", "-q", "--cached", "a.txt")  # the index no longer matches HEAD for a.txt
    assert "D  a.txt" in status(repo)
    proc = wt_commit(repo, "--json", "-m", "a", "--", "a.txt")
    assert as_json(proc)["outcome"] == "unchanged"
    assert status(repo) == ""


def test_root_commit_on_unborn_branch(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q")
    write(root, "first.txt", "1\n")
    write(root, "other.txt", "not mine\n")
    proc = wt_commit(root, "--json", "-m", "root", "--", "first.txt")
    assert proc.returncode == 0, proc.stderr
    assert as_json(proc)["parent"] is None
    assert git(root, "ls-tree", "--name-only", "HEAD").split() == ["first.txt"]
    assert "?? other.txt" in status(root)


def test_runs_from_a_subdirectory_with_relative_paths(repo: Path) -> None:
    write(repo, "src/app.py", "print('v3')\n")
    proc = wt_commit(repo / "src", "-m", "rel", "--", "app.py")
    assert proc.returncode == 0, proc.stderr
    assert committed_files(repo) == ["src/app.py"]


def test_mode_and_symlink_changes(repo: Path) -> None:
    script = repo / "src/app.py"
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    os.symlink("app.py", repo / "src/link")
    proc = wt_commit(repo, "-m", "modes", "--", "src/app.py", "src/link")
    assert proc.returncode == 0, proc.stderr
    tree = git(repo, "ls-tree", "HEAD", "src/")
    assert "100755 blob" in tree.split("src/app.py")[0].splitlines()[-1]
    assert tree.split("\t")[0].startswith("100755") or "120000 blob" in tree


@pytest.mark.parametrize(
    "name",
    ["with space.txt", "new\nline.txt", "ünïcødé-日本.txt", "-leading-dash", "--double", "*.py"],
)
def test_odd_file_names_are_literal(repo: Path, name: str) -> None:
    write(repo, name, "odd\n")
    write(repo, "bystander.py", "not named\n")
    proc = wt_commit(repo, "--json", "-m", "odd", "--", name)
    assert proc.returncode == 0, proc.stderr
    assert committed_files(repo) == [name]


def test_identity_and_dates_follow_git(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    env = {
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_AUTHOR_DATE": "2020-01-02T03:04:05+00:00",
        "GIT_COMMITTER_NAME": "Bot",
        "GIT_COMMITTER_EMAIL": "bot@example.com",
    }
    assert wt_commit(repo, "-m", "ident", "--", "a.txt", env=env).returncode == 0
    fmt = git(repo, "log", "-1", "--format=%an <%ae> %aI|%cn <%ce>").strip()
    assert fmt == "Ada <ada@example.com> 2020-01-02T03:04:05+00:00|Bot <bot@example.com>"


def test_message_paragraphs_file_stdin_and_cleanup(repo: Path) -> None:
    write(repo, "a.txt", "1\n")
    assert wt_commit(repo, "-m", "subject  ", "-m", "body line", "--", "a.txt").returncode == 0
    assert git(repo, "log", "-1", "--format=%B") == "subject\n\nbody line\n\n"
    write(repo, "a.txt", "2\n")
    write(repo, "msg.txt", "\n\nfrom file\n\n\n# kept: no editor, whitespace cleanup\n")
    assert wt_commit(repo, "-F", "msg.txt", "--", "a.txt").returncode == 0
    assert git(repo, "log", "-1", "--format=%B") == (
        "from file\n\n# kept: no editor, whitespace cleanup\n\n"
    )
    write(repo, "a.txt", "3\n")
    assert wt_commit(repo, "-F", "-", "--", "a.txt", input=b"from stdin\n").returncode == 0
    assert git(repo, "log", "-1", "--format=%s").strip() == "from stdin"


def test_reflog_and_event_log_name_the_agent(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    proc = wt_commit(repo, "--agent", "alice", "-m", "hello", "--", "a.txt")
    assert proc.returncode == 0, proc.stderr
    reflog = git(repo, "reflog", "-1", "--format=%gs", "refs/heads/main").strip()
    assert reflog == "wt-commit (alice): hello"
    assert git(repo, "reflog", "-1", "--format=%gs", "HEAD").strip() == reflog
    events = [json.loads(line) for line in (repo / ".git/wt/events.jsonl").read_text().splitlines()]
    last = events[-1]
    assert last["action"] == "commit" and last["agent"] == "alice"
    assert last["outcome"] == "committed" and last["commit"] == head(repo)
    assert last["paths"] == ["a.txt"] and "lock_hold_ms" in last


def test_agent_from_env_and_from_recorded_owner(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    proc = wt_commit(repo, "--json", "-m", "a", "--", "a.txt", env={"WT_AGENT": "bob"})
    assert as_json(proc)["agent"] == "bob"
    (repo / ".git/wt-owner").write_text("carol\n")
    write(repo, "a.txt", "b\n")
    proc = wt_commit(repo, "--json", "-m", "b", "--", "a.txt")
    assert as_json(proc)["agent"] == "carol"


def test_post_commit_hook_runs_and_hooks_path_is_honoured(repo: Path) -> None:
    hooks = repo / "myhooks"
    write(
        hooks, "post-commit", '#!/bin/sh\ngit rev-parse HEAD > "$(git rev-parse --git-dir)/post"\n'
    )
    (hooks / "post-commit").chmod(0o755)
    git(repo, "config", "core.hooksPath", "myhooks")
    write(repo, "a.txt", "a\n")
    assert wt_commit(repo, "-m", "a", "--", "a.txt").returncode == 0
    assert (repo / ".git/post").read_text().strip() == head(repo)


def _hook(repo: Path, name: str, body: str) -> None:
    path = write(repo / ".git/hooks", name, "#!/bin/sh\n" + body)
    path.chmod(0o755)


def test_failing_pre_commit_hook_means_no_commit_and_output_shown(repo: Path) -> None:
    _hook(repo, "pre-commit", "echo 'lint says no' >&2\nexit 3\n")
    write(repo, "a.txt", "a\n")
    before = snapshot(repo)[:3]
    proc = wt_commit(repo, "--json", "-m", "a", "--", "a.txt")
    assert proc.returncode == 5
    out = as_json(proc)
    assert out["outcome"] == "hook_failed"
    assert "lint says no" in proc.stderr
    assert "lint says no" in str(out["hook_output"])
    assert snapshot(repo)[:3] == before
    # --no-verify skips it, like git commit
    assert wt_commit(repo, "-n", "-m", "a", "--", "a.txt").returncode == 0


@pytest.mark.parametrize("mode", ["isolated", "in-place"])
def test_pre_commit_hook_sees_exactly_the_commit_being_made(repo: Path, mode: str) -> None:
    _hook(repo, "pre-commit", 'git diff --cached --name-only > "$SEEN"\n')
    write(repo, "a.txt", "a\n")
    write(repo, "b.txt", "b\n")
    git(repo, "add", "b.txt")
    seen = repo.parent / "seen"
    proc = wt_commit(repo, "--json", "--hooks", mode, "-m", "a", "--", "a.txt",
                     env={"SEEN": os.fspath(seen)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert as_json(proc)["hook_mode"] == mode
    assert seen.read_text() == "a.txt\n"


def test_isolated_hooks_never_touch_other_agents_files(repo: Path) -> None:
    """A hook that rewrites every file it can see (like a careless formatter, or pre-commit's
    stash-and-checkout) runs in the hook checkout: the live worktree is left alone."""
    _hook(repo, "pre-commit", "for f in $(git ls-files); do echo clobbered > \"$f\"; done\n"
          "git checkout -- . 2>/dev/null; exit 0\n")  # fmt: skip
    write(repo, "README", "another agent's unsaved edit\n")
    write(repo, "mine.txt", "mine\n")
    proc = wt_commit(repo, "--json", "-m", "mine", "--", "mine.txt")
    assert proc.returncode == 0, proc.stderr
    assert as_json(proc)["hook_mode"] == "isolated"
    assert (repo / "README").read_text() == "another agent's unsaved edit\n"
    assert (repo / "src/app.py").read_text() == "print('v1')\n"
    assert git(repo, "show", "HEAD:mine.txt") == "mine\n"


FIXER = """for f in $(git diff --cached --name-only); do
  if grep -q 'needs fix' "$f"; then sed -i 's/needs fix/fixed/' "$f"; changed=1; fi
done
[ -z "$changed" ]
"""


def test_auto_fixes_are_carried_back_only_where_safe(repo: Path) -> None:
    _hook(repo, "pre-commit", FIXER)
    write(repo, "a.txt", "a needs fix\n")
    write(repo, "b.txt", "b needs fix\n")
    write(repo, "bystander.txt", "bystander needs fix\n")
    tip = head(repo)
    proc = wt_commit(repo, "--json", "-m", "ab", "--", "a.txt", "b.txt")
    assert proc.returncode == 5
    out = as_json(proc)
    assert sorted(out["fixes_written"]) == ["a.txt", "b.txt"]
    assert head(repo) == tip  # the commit failed, as git commit would
    assert (repo / "a.txt").read_text() == "a fixed\n"
    assert (repo / "bystander.txt").read_text() == "bystander needs fix\n"  # not named: untouched
    # the fixed files now pass
    assert wt_commit(repo, "-m", "ab", "--", "a.txt", "b.txt").returncode == 0


def test_fix_is_not_written_over_a_live_file_that_changed_meanwhile(repo: Path) -> None:
    # The hook fixes the file, then (standing for a concurrent editor) the live file changes.
    _hook(repo, "pre-commit", FIXER.replace('[ -z "$changed" ]',
          'printf "edited during hooks\\n" > "$LIVE"\n[ -z "$changed" ]'))  # fmt: skip
    write(repo, "a.txt", "a needs fix\n")
    proc = wt_commit(repo, "--json", "-m", "a", "--", "a.txt",
                     env={"LIVE": os.fspath(repo / "a.txt")})  # fmt: skip
    assert proc.returncode == 5
    out = as_json(proc)
    assert out["fixes_written"] == [] and out["fixes_not_written"] == ["a.txt"]
    assert (repo / "a.txt").read_text() == "edited during hooks\n"


def test_owner_runs_hooks_in_place_and_config_can_force_isolation(repo: Path) -> None:
    _hook(repo, "pre-commit", 'pwd > "$WHERE"\n')
    where = repo.parent / "where"
    (repo / ".git/wt-owner").write_text("alice\n")
    write(repo, "a.txt", "a\n")
    proc = wt_commit(repo, "--json", "--agent", "alice", "-m", "a", "--", "a.txt",
                     env={"WHERE": os.fspath(where)})  # fmt: skip
    assert as_json(proc)["hook_mode"] == "in-place"
    assert where.read_text().strip() == os.fspath(repo)
    git(repo, "config", "wt.hooks", "isolated")
    write(repo, "a.txt", "b\n")
    proc = wt_commit(repo, "--json", "--agent", "alice", "-m", "b", "--", "a.txt",
                     env={"WHERE": os.fspath(where)})  # fmt: skip
    assert as_json(proc)["hook_mode"] == "isolated"
    assert where.read_text().strip() != os.fspath(repo)
    # The hook checkout is a private repository outside every .git directory (issue 16).
    assert Path(where.read_text().strip()).parent == repo.parent / "repo.worktrees/.hooks"


def test_commit_msg_hooks_can_edit_and_reject(repo: Path) -> None:
    _hook(repo, "prepare-commit-msg", 'echo "Prepared-by: hook" >> "$1"\n')
    _hook(repo, "commit-msg", 'grep -q "Prepared-by" "$1" || exit 1\n')
    write(repo, "a.txt", "a\n")
    assert wt_commit(repo, "-m", "subject", "--", "a.txt").returncode == 0
    assert git(repo, "log", "-1", "--format=%B") == "subject\nPrepared-by: hook\n\n"
    _hook(repo, "commit-msg", "echo 'bad message' >&2; exit 1\n")
    write(repo, "a.txt", "b\n")
    tip = head(repo)
    proc = wt_commit(repo, "--json", "-m", "x", "--", "a.txt")
    assert proc.returncode == 5 and as_json(proc)["hook"] == "commit-msg"
    assert head(repo) == tip


def test_gpg_sign_setting_is_honoured(repo: Path) -> None:
    """commit.gpgSign with a failing gpg.program: like git commit, the commit is refused."""
    git(repo, "config", "commit.gpgSign", "true")
    git(repo, "config", "gpg.program", "false")
    write(repo, "a.txt", "a\n")
    tip = head(repo)
    proc = wt_commit(repo, "--json", "-m", "signed", "--", "a.txt")
    assert proc.returncode == 6, proc.stderr
    assert as_json(proc)["outcome"] == "rejected"
    assert head(repo) == tip
    assert wt_commit(repo, "--no-gpg-sign", "-m", "unsigned", "--", "a.txt").returncode == 0


# ---------------------------------------------------------------- bad input changes nothing


BAD_INPUTS = [
    ([], "no paths"),
    (["--", "."], "whole worktree"),
    (["--", "src/.."], "whole worktree"),
    (["-a"], "never commits everything"),
    (["--all"], "never commits everything"),
    (["--", "../outside.txt"], "outside the worktree"),
    (["--", "/etc/passwd"], "outside the worktree"),
    (["--", ".git/config"], "inside .git"),
    (["--", "src/.GIT/x"], "inside .git"),
    (["--", "missing.txt"], "neither exists nor is tracked"),
    (["--", ":(glob)*.py"], "pathspec magic"),
    (["--", ":!README"], "pathspec magic"),
    (["--", "linkdir/file.txt"], "symbolic link"),
    (["--", "ignored.log"], "ignored"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS)
def test_bad_input_is_refused_and_changes_nothing(
    repo: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    outside = tmp_path / "elsewhere"
    write(outside, "file.txt", "outside\n")
    os.symlink(outside, repo / "linkdir")
    write(repo, ".git/info/exclude", "*.log\n")
    write(repo, "ignored.log", "x\n")
    write(repo, "README", "dirty\n")
    write(repo, "staged.txt", "s\n")
    git(repo, "add", "staged.txt")
    before = snapshot(repo)

    proc = wt_commit(repo, "--json", "-m", "bad", *args)

    assert proc.returncode == 2, proc.stderr
    out = as_json(proc)
    assert out["outcome"] == "invalid"
    assert message in str(out["error"]), out["error"]
    assert message in proc.stderr
    after = snapshot(repo)
    assert after[:3] == before[:3]  # refs, index bytes, status untouched


def test_no_message_is_refused(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    proc = wt_commit(repo, "--json", "--", "a.txt")
    assert proc.returncode == 2
    assert "message is required" in as_json(proc)["error"]


def test_empty_message_after_cleanup_is_refused(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    tip = head(repo)
    proc = wt_commit(repo, "-m", "   ", "--", "a.txt")
    assert proc.returncode == 2 and "empty commit message" in proc.stderr
    assert head(repo) == tip


def test_detached_head_and_merge_in_progress_are_refused(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    git(repo, "checkout", "-q", "--detach")
    proc = wt_commit(repo, "-m", "a", "--", "a.txt")
    assert proc.returncode == 2 and "detached" in proc.stderr and "git switch" in proc.stderr
    git(repo, "checkout", "-q", "main")
    (repo / ".git/MERGE_HEAD").write_text(head(repo) + "\n")
    proc = wt_commit(repo, "-m", "a", "--", "a.txt")
    assert proc.returncode == 2 and "merge is in progress" in proc.stderr


def test_outside_any_repository(tmp_path: Path) -> None:
    proc = wt_commit(tmp_path, "--json", "-m", "x", "--", "a")
    assert proc.returncode == 2
    assert "not inside a git worktree" in as_json(proc)["error"]


def test_unknown_option_in_json_mode_is_one_json_object(repo: Path) -> None:
    proc = wt_commit(repo, "--json", "--bogus", "-m", "x", "--", "README")
    assert proc.returncode == 2
    assert as_json(proc)["outcome"] == "invalid"


def test_linked_worktree_commits_to_its_own_branch(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", "-b", "feature", os.fspath(other))
    write(other, "feature.txt", "f\n")
    write(repo, "main-dirty.txt", "dirty in main\n")
    proc = wt_commit(other, "--json", "-m", "feature", "--", "feature.txt")
    assert proc.returncode == 0, proc.stderr
    assert as_json(proc)["branch"] == "feature"
    assert committed_files(repo, "feature") == ["feature.txt"]
    assert "?? main-dirty.txt" in status(repo)
    assert status(other) == ""
    # both worktrees share one event log in the common git dir
    assert "feature" in (repo / ".git/wt/events.jsonl").read_text()


def test_git_wt_commit_and_python_m_are_the_same_command(repo: Path) -> None:
    import subprocess
    import sys

    write(repo, "a.txt", "a\n")
    proc = subprocess.run(
        ["git", "wt", "commit", "-m", "via git", "--", "a.txt"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    write(repo, "b.txt", "b\n")
    proc = subprocess.run(
        [sys.executable, "-m", "worktree_tools", "commit", "-m", "via -m", "--", "b.txt"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert committed_files(repo) == ["b.txt"]
    log = subprocess.run(["git", "wt", "log", "--json"], cwd=repo, capture_output=True, text=True)
    assert json.loads(log.stdout)["count"] == 2


def test_hot_path_imports_only_what_it_uses(repo: Path) -> None:
    """wt-commit must not pay for pygit2 or psutil: committing uses neither."""
    write(repo, "a.txt", "a\n")
    report = "sorted(m for m in ('pygit2', 'psutil') if m in sys.modules)"
    proc = run_in_fresh_python(
        repo, "wt_commit_main", [["wt-commit", "-m", "x", "--", "a.txt"]], report
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
    assert committed_files(repo) == ["a.txt"]


MOVE_BRANCH_HOOK = """#!/bin/sh
# Another actor moves the branch while our hooks run (plain git plumbing, its own index; in the
# repository itself: an isolated hook checkout has refs of its own).
[ -e "$GIT_DIR_MARK" ] && exit 0
touch "$GIT_DIR_MARK"
export GIT_DIR="$REAL_GIT_DIR"
export GIT_INDEX_FILE="$(git rev-parse --git-dir)/other-index"
git read-tree HEAD
printf 'external\\n' > "$EXTERNAL_FILE.tmp"
blob=$(git hash-object -w "$EXTERNAL_FILE.tmp")
rm "$EXTERNAL_FILE.tmp"
git update-index --add --cacheinfo 100644,$blob,"$EXTERNAL_PATH"
tree=$(git write-tree)
c=$(git commit-tree "$tree" -p HEAD -m external)
git update-ref refs/heads/main "$c"
"""


def _install_mover(repo: Path, external_path: str) -> dict[str, str]:
    _hook(repo, "pre-commit", MOVE_BRANCH_HOOK.removeprefix("#!/bin/sh\n"))
    return {
        "GIT_DIR_MARK": os.fspath(repo / ".git/moved-once"),
        "REAL_GIT_DIR": os.fspath(repo / ".git"),
        "EXTERNAL_FILE": os.fspath(repo / ".git/external"),
        "EXTERNAL_PATH": external_path,
    }


def test_branch_moved_during_hooks_replays_when_paths_untouched(repo: Path) -> None:
    env = _install_mover(repo, "other.txt")
    write(repo, "mine.txt", "mine\n")
    proc = wt_commit(repo, "--json", "-m", "mine", "--", "mine.txt", env=env)
    assert proc.returncode == 0, proc.stderr
    out = as_json(proc)
    assert out["outcome"] == "committed" and out["replays"] == 1
    assert git(repo, "log", "--format=%s", "-3").split("\n")[:3] == ["mine", "external", "initial"]
    assert committed_files(repo) == ["mine.txt"]
    assert git(repo, "show", "HEAD:other.txt") == "external\n"


def test_branch_moved_during_hooks_on_same_path_is_a_conflict(repo: Path) -> None:
    env = _install_mover(repo, "mine.txt")
    write(repo, "mine.txt", "mine\n")
    index_before = (repo / ".git/index").read_bytes()
    proc = wt_commit(repo, "--json", "-m", "mine", "--", "mine.txt", env=env)
    assert proc.returncode == 4, proc.stderr
    out = as_json(proc)
    assert out["outcome"] == "conflict"
    assert "mine.txt" in str(out["error"]) and out["fix"]
    assert git(repo, "log", "-1", "--format=%s").strip() == "external"  # theirs kept, not forced
    assert (repo / "mine.txt").read_text() == "mine\n"  # our work is still on disk
    assert (repo / ".git/index").read_bytes() == index_before
    assert not (repo / ".git/index.lock").exists()


def test_bad_hook_mode_in_config_is_refused_before_anything_changes(repo: Path) -> None:
    git(repo, "config", "wt.hooks", "sometimes")
    write(repo, "a.txt", "a\n")
    before = snapshot(repo)[:3]
    proc = wt_commit(repo, "--json", "-m", "a", "--", "a.txt")
    assert proc.returncode == 2 and "sometimes" in str(as_json(proc)["error"])
    assert snapshot(repo)[:3] == before


def test_wt_commit_applies_the_journal_rules(repo: Path) -> None:
    write(repo, "journal/2026/a.md", "day one\n")
    assert wt_commit(repo, "-m", "j1", "--", "journal").returncode == 0
    tip = head(repo)
    write(repo, "journal/2026/a.md", "day one, edited\n")
    proc = wt_commit(repo, "--json", "-m", "rewrite", "--", "journal")  # a directory path too
    assert proc.returncode == 6, proc.stderr
    out = as_json(proc)
    assert out["outcome"] == "rejected" and "journal append" in str(out["fix"])
    assert head(repo) == tip
    (repo / "journal/2026/a.md").unlink()
    assert wt_commit(repo, "-m", "delete", "--", "journal/2026/a.md").returncode == 6
    write(repo, "journal/2026/a.md", "day one\nday two\n")
    assert wt_commit(repo, "-m", "append", "--", "journal/2026/a.md").returncode == 0


def test_hot_path_journal_shortcut_agrees_with_the_default_config() -> None:
    from worktree_tools.commit.tip import reaches_default_journal
    from worktree_tools.journal.config import JournalConfig

    default = JournalConfig()
    for rel in [".", "journal", "journal/a.md", "journal/2026/x.md", "journalx", "src/journal",
                ".wtjournal", "README", "Journal/a.md", "docs/journal/a.md"]:  # fmt: skip
        assert reaches_default_journal(rel) == default.touches(rel), rel


def test_a_committed_journal_config_is_honoured_for_other_paths(repo: Path) -> None:
    write(repo, ".wtjournal", "[journal]\n\tpath = journal/**\n\tpath = notes/**\n")
    write(repo, "notes/a.md", "one\n")
    assert wt_commit(repo, "-m", "cfg", "--", ".wtjournal", "notes").returncode == 0
    write(repo, "notes/a.md", "changed\n")
    assert wt_commit(repo, "-m", "edit", "--", "notes/a.md").returncode == 6


@pytest.mark.parametrize("mode", ["isolated", "in-place"])
def test_a_hook_cannot_slip_unnamed_paths_into_the_commit(repo: Path, mode: str) -> None:
    write(repo, "journal/x.md", "entry\n")
    git(repo, "add", "journal/x.md")
    git(repo, "commit", "-qm", "journal")
    _hook(repo, "pre-commit", "echo v2 > version.txt; git add version.txt\n"
          "git rm -q --cached journal/x.md\n")  # fmt: skip
    write(repo, "a.txt", "a\n")
    tip, index_before = head(repo), (repo / ".git/index").read_bytes()
    proc = wt_commit(repo, "--json", "--hooks", mode, "-m", "a", "--", "a.txt")
    assert proc.returncode == 5, proc.stderr
    out = as_json(proc)
    assert sorted(out["stray_paths"]) == ["journal/x.md", "version.txt"]
    assert head(repo) == tip
    assert (repo / ".git/index").read_bytes() == index_before


def test_a_hook_may_restage_the_named_paths(repo: Path) -> None:
    _hook(repo, "pre-commit", "sed -i 's/needs fix/fixed/' a.txt 2>/dev/null; git add a.txt\n")
    write(repo, "a.txt", "a needs fix\n")
    proc = wt_commit(repo, "--hooks", "in-place", "-m", "a", "--", "a.txt")
    assert proc.returncode == 0, proc.stderr
    assert git(repo, "show", "HEAD:a.txt") == "a fixed\n"


@pytest.mark.parametrize("value", ["abc", "-1", "nan"])
def test_a_bad_lock_timeout_in_the_environment_is_invalid_input(repo: Path, value: str) -> None:
    write(repo, "a.txt", "a\n")
    before = snapshot(repo)[:3]
    proc = wt_commit(repo, "--json", "-m", "a", "--", "a.txt", env={"WT_LOCK_TIMEOUT": value})
    assert proc.returncode == 2 and as_json(proc)["outcome"] == "invalid"
    assert "Traceback" not in proc.stderr and snapshot(repo)[:3] == before


def test_the_hot_path_copies_of_hook_names_match_the_hook_machinery() -> None:
    """commit/run.py names the hooks and hook modes without importing the hook modules (a
    commit without hooks does not pay for them); the copies must stay equal to the originals."""
    from worktree_tools.commit import run as commit_run
    from worktree_tools.hooks import run as hookrun
    from worktree_tools.hooks.stage import HookMode

    assert commit_run.COMMIT_HOOKS == hookrun.COMMIT_HOOKS
    assert set(commit_run.HOOK_MODES) == {m.value for m in HookMode}
