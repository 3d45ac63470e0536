"""The one way this package runs git: an argument list, never a shell; an explicit environment."""

from __future__ import annotations

import os
import sys

from worktree_tools.core.errors import GitError
from worktree_tools.core.forkexec import LAYOUT
from worktree_tools.core.spawn import DEVNULL, PIPE, Process

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from worktree_tools.core.spawn import Stream

# `git rev-parse --local-env-vars`: these tie a process to one repository. We strip them before
# running git so an inherited GIT_INDEX_FILE (say, from inside a hook) never redirects our writes.
# GIT_CONFIG_PARAMETERS stays: it is how `git -c k=v wt ...` hands config to us.
LOCAL_ENV_VARS = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_OBJECT_DIRECTORY",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_GRAFT_FILE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR",
)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current environment minus git's repository-local variables, plus `extra`.

    A commit asks for it once per git process: the filtered copy is kept while the environment
    is unchanged (its raw bytes compare equal, one C-level dict comparison), instead of decoding
    every variable again each time."""
    global _clean
    raw = getattr(os.environ, "_data", None)  # CPython's bytes -> bytes store behind os.environ
    cached = _clean  # one read of the global: another thread may replace it meanwhile
    if raw is not None and cached is not None and cached[0] == raw:
        filtered = cached[1]
    else:
        filtered = {k: v for k, v in os.environ.items() if k not in LOCAL_ENV_VARS}
        _clean = (dict(raw), filtered) if raw is not None else None
    env = dict(filtered)
    if extra:
        env.update(extra)
    return env


_clean: tuple[dict[bytes, bytes], dict[str, str]] | None = None


class GitResult:
    """What a git process said: its exit code and both outputs."""

    __slots__ = ("returncode", "stderr", "stdout")

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self) -> str:
        return f"GitResult({self.returncode!r}, {self.stdout!r}, {self.stderr!r})"

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "surrogateescape")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


# git commands that work on local data only and never ask at the terminal: they may leave the
# terminal's process group for the watchdog's (see _tie). Anything else (push, fetch: a
# credential or ssh prompt; checkout, worktree add: a filter fetching large files; signing: a
# passphrase) stays in ours, where the terminal lets it read.
_LOCAL = frozenset(
    (
        "add", "cat-file", "check-attr", "check-ignore", "commit-tree", "config", "diff",
        "diff-index", "diff-tree", "fast-import", "for-each-ref", "hash-object", "log",
        "ls-files", "ls-tree", "merge-base", "mktree", "read-tree", "reset", "rev-list",
        "rev-parse", "show", "show-ref", "symbolic-ref", "update-index", "update-ref", "var",
        "write-tree",
    )
)  # fmt: skip
_WORKTREE_MODES = frozenset(("--hard", "--merge", "--keep", "-S", "--gpg-sign"))
_OPTIONS_WITH_VALUE = frozenset(("-c", "-C", "--git-dir", "--work-tree", "--namespace"))


def _local(args: Sequence[str]) -> bool:
    """Whether `git ARGS` is one of the _LOCAL commands, without an option that reaches the
    worktree's files (`reset --hard`) or a signing key (`commit-tree -S`)."""
    rest = iter(args)
    for arg in rest:
        if arg in _OPTIONS_WITH_VALUE:
            next(rest, None)
        elif not arg.startswith("-"):
            return arg in _LOCAL and not any(
                a in _WORKTREE_MODES or a.startswith(("-S", "--gpg-sign=")) for a in rest
            )
    return False


# The watchdog (see _watchdog): `read` returns when the pipe's last writer, this process, is
# gone, however it ended; then it kills its own process group, which the git children joined.
_WATCHDOG_SCRIPT = "read _; kill -KILL 0"
_watchdog_state: tuple[int, int] | None = None  # (pid of this process, pid of its watchdog)


def _watchdog() -> int | None:
    """The process group our git children join so that they die with us (SIGKILL included):
    a `sh` started once per process, in a group of its own, holding the only read end of a
    pipe whose write end only this process holds. One process per wt-commit instead of one
    `setpriv` per git; it works wherever there is a POSIX shell. None when it cannot start."""
    global _watchdog_state
    me = os.getpid()
    if _watchdog_state is not None and _watchdog_state[0] == me:
        pid = _watchdog_state[1]
        try:
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                return pid  # still running (a dead one, even a zombie, guards nothing)
        except ChildProcessError:
            pass
    # Our watchdog is gone, or we are a forked child: the write end we hold would keep the
    # parent's watchdog waiting as long as we live, and that one guards the parent's git.
    while _WRITE_ENDS:
        try:
            os.close(_WRITE_ENDS.pop())
        except OSError:
            continue
    _watchdog_state = None
    read_end, write_end = os.pipe()  # both close-on-exec: no git child holds the write end
    try:
        pid = os.posix_spawn(
            "/bin/sh",
            ["sh", "-c", _WATCHDOG_SCRIPT],
            {"PATH": os.defpath},
            file_actions=[
                (os.POSIX_SPAWN_DUP2, read_end, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
            setpgroup=0,
        )
    except OSError:
        os.close(write_end)
        return None
    finally:
        os.close(read_end)
    _WRITE_ENDS.append(write_end)  # open until this process ends: its closing is the signal
    _watchdog_state = (me, pid)
    return pid


_WRITE_ENDS: list[int] = []


def popen(
    args: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    stdin: Stream = None,
    stdout: Stream = None,
    stderr: Stream = None,
    bufsize: int = -1,
) -> Process:
    """Start `git ARGS` in `cwd`, tied to this process (it dies with us); the caller waits for
    it. The streams take PIPE, DEVNULL, STDOUT (core.spawn's or subprocess's) or a descriptor.

    A git killed with this process (SIGKILL included: it runs no cleanup) must not go on
    working. A local command (_local) joins the watchdog's process group (Python >= 3.11: no
    fork of this process, nothing run in front of git). Any other command may prompt at the
    terminal, and cannot sit in another process group (a read from the terminal would stop
    it), nor can any command on Python 3.10: those are tied with Linux PR_SET_PDEATHSIG
    instead (see `tied`)."""
    env = env if env is not None else clean_env()
    streams = (stdin, stdout, stderr, bufsize)
    if sys.version_info >= (3, 11) and os.name == "posix" and _local(args):
        group = _watchdog()
        if group is not None:
            try:
                return _start(["git", *args], cwd, env, streams, group, None)
            except PermissionError:
                pass  # the watchdog's group is gone or out of reach (another session)
    argv, preexec = tied(["git", *args])
    return _start(argv, cwd, env, streams, None, preexec)


def _start(
    argv: list[str],
    cwd: str | os.PathLike[str],
    env: Mapping[str, str],
    streams: tuple[Stream, Stream, Stream, int],
    group: int | None,
    preexec: Callable[[], None] | None,
) -> Process:
    stdin, stdout, stderr, bufsize = streams
    if LAYOUT is not None:
        return Process(
            argv, cwd=cwd, env=env, stdin=stdin, stdout=stdout, stderr=stderr, bufsize=bufsize,
            process_group=group, preexec_fn=preexec,
        )  # fmt: skip
    import subprocess  # only on a Python whose fork_exec core.spawn does not know

    grouped: Any = {} if group is None else {"process_group": group}  # Python >= 3.11
    return Process.adopt(
        subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=stdin, stdout=stdout, stderr=stderr, bufsize=bufsize,
            preexec_fn=preexec, **grouped,
        )
    )  # fmt: skip


def tied(argv: list[str]) -> tuple[list[str], Callable[[], None] | None]:
    """(argv, preexec_fn) that make the child die with us through Linux PR_SET_PDEATHSIG:
    `setpriv --pdeathsig` (util-linux) when it exists, which costs far less than a
    `preexec_fn` (a full fork of Python); else prctl in a preexec_fn; elsewhere nothing."""
    global _SETPRIV
    if _SETPRIV is None:
        import shutil

        _SETPRIV = shutil.which("setpriv") or "" if sys.platform == "linux" else ""
    if _SETPRIV:
        return [_SETPRIV, "--pdeathsig", "KILL", "--", *argv], None
    if sys.platform != "linux":
        return argv, None
    import _signal  # type: ignore[import-not-found]
    import ctypes  # only here: ~5 ms

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def child() -> None:
        prctl(_PR_SET_PDEATHSIG, _signal.SIGKILL)
        if os.getppid() != parent:  # we died before prctl took effect
            os._exit(1)

    return argv, child


_PR_SET_PDEATHSIG = 1
_SETPRIV: str | None = None


def git(
    args: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    check: bool = True,
) -> GitResult:
    """Run `git ARGS` in `cwd`; raise GitError on a non-zero exit unless `check` is false."""
    with popen(
        args,
        cwd=cwd,
        env=env,
        stdin=PIPE if input is not None else DEVNULL,
        stdout=PIPE,
        stderr=PIPE,
    ) as proc:
        stdout, stderr = proc.communicate(input)
    result = GitResult(proc.wait(), stdout or b"", stderr or b"")
    if check and result.returncode != 0:
        raise GitError(list(args), result.returncode, result.err or result.out)
    return result


def nul_join(paths: Sequence[str]) -> bytes:
    """Paths as a NUL-terminated list for `--pathspec-from-file=- --pathspec-file-nul`."""
    return b"".join(os.fsencode(p) + b"\0" for p in paths)
