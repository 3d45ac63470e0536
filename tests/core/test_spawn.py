"""core.spawn / core.gitcmd against subprocess: the same git command, run by both, says the
same (exit code, stdout, stderr) on many inputs. The command is a git alias (`!...`: git runs
it through sh) that copies its input to both pipes, so that large inputs fill both pipes at once
(a runner reading one pipe at a time, or writing all input before reading, deadlocks), and that
ends with a chosen exit code or signal."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from worktree_tools.core import forkexec, gitcmd, spawn
from worktree_tools.core.errors import GitError

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# What the alias does after copying stdin to stdout and stderr (`tee`), as sh reads it.
ENDINGS = [
    "exit 0",
    "exit 1",
    "exit 3",
    "exit 128",
    "kill -TERM $$",  # ended by a signal: returncode -15
    "printf 'no newline' >&2",
    "head -c 100000 /dev/zero",  # more than a pipe holds, on stdout alone
]
data = st.tuples(st.binary(max_size=64), st.integers(0, 20000)).map(lambda t: t[0] * t[1])
BOTH_PIPES_FULL = b"0123456789abcdef" * 65536  # 1 MiB on stdin, stdout and stderr at once


def _alias(ending: str) -> list[str]:
    return ["-c", f"alias.both=!tee /dev/stderr; {ending}", "both"]


def _by_subprocess(cwd: Path, args: list[str], input: bytes | None) -> tuple[int, bytes, bytes]:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=gitcmd.clean_env(),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


@SETTINGS
@example(input=BOTH_PIPES_FULL, ending="exit 0")
@given(input=st.none() | data, ending=st.sampled_from(ENDINGS))
def test_git_says_what_subprocess_says(input: bytes | None, ending: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        args = _alias(ending)
        res = gitcmd.git(args, cwd=tmp, input=input, check=False)
        assert (res.returncode, res.stdout, res.stderr) == _by_subprocess(Path(tmp), args, input)


STREAMS = st.sampled_from([subprocess.PIPE, subprocess.DEVNULL])


@SETTINGS
@example(
    input=BOTH_PIPES_FULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=-1, ending=""
)
@given(
    input=data,
    stdout=STREAMS,
    stderr=st.sampled_from([subprocess.PIPE, subprocess.DEVNULL, subprocess.STDOUT]),
    bufsize=st.sampled_from([-1, 0]),
    ending=st.sampled_from(ENDINGS),
)
def test_popen_communicate_says_what_subprocess_says(
    input: bytes, stdout: int, stderr: int, bufsize: int, ending: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        args = _alias(ending)
        pipe = subprocess.PIPE
        with gitcmd.popen(
            args, cwd=tmp, bufsize=bufsize, stdin=pipe, stdout=stdout, stderr=stderr
        ) as ours:
            got = ours.communicate(input)
        with subprocess.Popen(
            ["git", *args], cwd=tmp, env=gitcmd.clean_env(), bufsize=bufsize,
            stdin=pipe, stdout=stdout, stderr=stderr,
        ) as theirs:  # fmt: skip
            want = theirs.communicate(input)
        if stderr == subprocess.STDOUT:  # tee's two copies interleave as its reads happen
            assert sorted(got[0] or b"") == sorted(want[0] or b"")
            assert (ours.returncode, got[1]) == (theirs.returncode, want[1])
        else:
            assert (ours.returncode, got) == (theirs.returncode, want)


@SETTINGS
@given(lines=st.lists(st.binary(max_size=200).filter(lambda b: b"\n" not in b), max_size=30))
def test_a_process_spoken_to_line_by_line(repo: Path, lines: list[bytes]) -> None:
    """The way treeedit and refs use a process: write a line, flush, read the answer's line
    from the buffered stdout; then end it by closing stdin (as subprocess's context manager)."""
    blob = gitcmd.git(["hash-object", "-w", "--stdin"], cwd=repo, input=b"x\n").out.strip()
    asked = [blob.encode(), *lines]
    with gitcmd.popen(
        ["cat-file", "--batch-check"], cwd=repo, stdin=spawn.PIPE, stdout=spawn.PIPE
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        answers = []
        for line in asked:
            proc.stdin.write(line + b"\n")
            proc.stdin.flush()
            answers.append(proc.stdout.readline())
    want = subprocess.run(
        ["git", "cat-file", "--batch-check"],
        cwd=repo,
        input=b"".join(line + b"\n" for line in asked),
        capture_output=True,
        check=True,
    ).stdout
    assert b"".join(answers) == want
    assert proc.returncode == 0


@pytest.mark.skipif(forkexec.LAYOUT is None, reason="this Python starts children via subprocess")
def test_signals_python_ignores_are_restored_in_the_child() -> None:
    """Python ignores SIGPIPE, and an ignored signal is inherited: without restore_signals,
    `yes` gets EPIPE and says so on stderr instead of dying quietly of SIGPIPE. (Of the
    signals above 31, glibc's posix_spawn leaves its own two internal ones ignored: a glibc
    program installs its handlers for them at start, whatever it inherits.)"""
    argv = ["sh", "-c", "yes | head -c 3; grep SigIgn /proc/self/status"]
    pipe = spawn.PIPE
    with spawn.Process(argv, env=dict(os.environ), stdout=pipe, stderr=pipe) as ours:
        out, err = ours.communicate()
    want = subprocess.run(argv, capture_output=True, check=False)
    assert (ours.returncode, err) == (want.returncode, want.stderr) == (0, b"")

    def standard_ignored(out: bytes | None) -> int:
        assert out is not None and out.startswith(b"y\ny")
        return int(out.split(b"SigIgn:")[1].strip(), 16) & 0x7FFFFFFF

    assert standard_ignored(out) == standard_ignored(want.stdout)


def test_kill_poll_wait_as_subprocess(repo: Path) -> None:
    proc = gitcmd.popen(["cat-file", "--batch"], cwd=repo, stdin=spawn.PIPE, stdout=spawn.PIPE)
    assert proc.poll() is None and proc.returncode is None
    assert proc.pid > 0
    proc.kill()
    assert proc.wait() == -signal.SIGKILL
    assert proc.poll() == -signal.SIGKILL
    proc.kill()  # ended: nothing is signalled (its pid may belong to another process by now)
    proc.terminate()
    out, _ = proc.communicate()
    assert out == b""
    with gitcmd.popen(["cat-file", "--batch"], cwd=repo, stdin=spawn.PIPE) as term:
        term.terminate()
    assert term.returncode == -signal.SIGTERM


def test_a_timeout_raises_subprocess_timeout_expired(repo: Path) -> None:
    with gitcmd.popen(
        ["cat-file", "--batch"], cwd=repo, stdin=spawn.PIPE, stdout=spawn.PIPE
    ) as proc:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.01)  # waits on git reading its stdin: it never ends by itself
        proc.kill()


def test_a_missing_directory_fails_as_subprocess_fails(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    with pytest.raises(FileNotFoundError):
        subprocess.run(["git", "status"], cwd=gone, check=False)
    with pytest.raises(FileNotFoundError):
        gitcmd.git(["status"], cwd=gone)
    file = tmp_path / "file"
    file.write_text("")
    with pytest.raises(NotADirectoryError):
        subprocess.run(["git", "status"], cwd=file, check=False)
    with pytest.raises(NotADirectoryError):
        gitcmd.git(["status"], cwd=file)


def test_git_error_on_non_zero_exit(repo: Path) -> None:
    with pytest.raises(GitError) as raised:
        gitcmd.git(["rev-parse", "--verify", "no-such-ref"], cwd=repo)
    assert raised.value.returncode == 128


def test_git_is_found_on_the_childs_path(repo: Path, tmp_path: Path) -> None:
    """As subprocess: the executable comes from the PATH of the environment given."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git").write_text("#!/bin/sh\necho fake git\n")
    (fake / "git").chmod(0o755)
    env = {**gitcmd.clean_env(), "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    assert gitcmd.git(["status"], cwd=repo, env=env).out == "fake git\n"
    assert "fake" not in gitcmd.git(["version"], cwd=repo).out


@pytest.mark.skipif(forkexec.LAYOUT is None, reason="this Python starts children via subprocess")
def test_a_preexec_fn_runs_in_the_child_as_subprocess_runs_it() -> None:
    """The prctl tie (no setpriv) runs Python in the child before exec, as subprocess does;
    a preexec_fn that raises fails the start with subprocess's own error."""
    argv = ["sh", "-c", "umask"]

    def tighten() -> None:
        os.umask(0o077)

    with spawn.Process(argv, env=dict(os.environ), stdout=spawn.PIPE, preexec_fn=tighten) as ours:
        out, _ = ours.communicate()
    want = subprocess.run(argv, stdout=subprocess.PIPE, preexec_fn=tighten, check=True).stdout
    assert out == want == b"0077\n"

    def fail() -> None:
        raise RuntimeError("no")

    with pytest.raises(subprocess.SubprocessError) as theirs:
        subprocess.run(argv, preexec_fn=fail, check=False)
    with pytest.raises(subprocess.SubprocessError) as raised:
        spawn.Process(argv, env=dict(os.environ), preexec_fn=fail)
    assert str(raised.value) == str(theirs.value)


def test_a_missing_executable_fails_as_subprocess_fails(tmp_path: Path) -> None:
    env = {"PATH": os.fspath(tmp_path)}
    with pytest.raises(FileNotFoundError) as theirs:
        subprocess.run(["no-such-program"], env=env, check=False)
    with pytest.raises(FileNotFoundError) as ours:
        spawn.Process(["no-such-program"], env=env)
    assert (ours.value.errno, ours.value.filename) == (theirs.value.errno, theirs.value.filename)


def test_a_process_subprocess_started_is_adopted(repo: Path) -> None:
    sub = subprocess.Popen(
        ["git", "cat-file", "--batch-check"], cwd=repo, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )  # fmt: skip
    proc = spawn.Process.adopt(sub)
    out, _ = proc.communicate(b"HEAD\n")
    assert out.endswith(b" commit 0\n") is False and b" commit " in out
    assert proc.returncode == sub.returncode == 0
