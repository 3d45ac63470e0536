"""How core/spawn starts a child: the C call `subprocess.Popen` makes
(`_posixsubprocess.fork_exec`, vfork where it can), with the arguments subprocess passes on this
Python, the standard streams as subprocess's _get_handles sets them up, and a failure to start
raised as subprocess raises it. Split from spawn.py, which keeps the process object.

On wt-commit's hot path: imports only what the interpreter has already loaded.
"""

from __future__ import annotations

import _posixsubprocess
import builtins
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import IO, Any

    Stream = int | IO[bytes] | None

PIPE = -1  # the values of subprocess.PIPE, STDOUT and DEVNULL: callers may pass either
STDOUT = -2
DEVNULL = -3

# fork_exec's parameters as subprocess passes them: 3.10 has neither a process group nor
# allow_vfork; 3.11 and later have both (3.12 and 3.13 say so in their signature, checked).
_LAYOUT_3_11 = (
    "args", "executable_list", "close_fds", "pass_fds", "cwd", "env", "p2cread", "p2cwrite",
    "c2pread", "c2pwrite", "errread", "errwrite", "errpipe_read", "errpipe_write",
    "restore_signals", "call_setsid", "pgid_to_set", "gid", "extra_groups", "uid",
    "child_umask", "preexec_fn", "allow_vfork",
)  # fmt: skip


def _layout() -> str | None:
    """Which fork_exec this Python has: "3.10", "3.11" (3.11 and later), or None (unknown:
    start children through subprocess)."""
    if sys.version_info[:2] == (3, 10):
        return "3.10"
    if sys.version_info[:2] == (3, 11):
        return "3.11"
    text = getattr(_posixsubprocess.fork_exec, "__text_signature__", None) or ""
    names = tuple(n.strip() for n in text.strip("()").split(","))
    known = names[:1] == ("$module",) and names[1:] in (_LAYOUT_3_11, (*_LAYOUT_3_11, "/"))
    return "3.11" if known else None


LAYOUT = _layout()
_fork_exec: Any = _posixsubprocess.fork_exec  # its parameters depend on the version (above)


def executables(name: str, env: Mapping[str, str] | None) -> tuple[bytes, ...]:
    """Where the child may find `name`, in order, as subprocess lists them (the PATH of the
    child's environment)."""
    executable = os.fsencode(name)
    if os.path.dirname(executable):
        return (executable,)
    # os.get_exec_path(env), which imports `warnings` (a start-up cost) for bytes environments
    path = (env if env is not None else os.environ).get("PATH")
    dirs = (os.defpath if path is None else path).split(os.pathsep)
    return tuple(os.path.join(os.fsencode(d), executable) for d in dirs)


def start(
    args: list[str],
    env: Mapping[str, str],
    cwd: str | os.PathLike[str] | None,
    p2cread: int,
    p2cwrite: int,
    c2pread: int,
    c2pwrite: int,
    errread: int,
    errwrite: int,
    process_group: int | None,
    preexec_fn: Callable[[], object] | None,
) -> int:
    """Start `args` (subprocess.Popen._execute_child, for an argument list and an environment):
    the child's pid, or the OSError the child reported."""
    executable = args[0]
    sys.audit("subprocess.Popen", executable, args, cwd, env)
    env_list = _encoded(env)
    # For an exec that failed in the child: "exception name:hex errno:description".
    errpipe_read, errpipe_write = os.pipe()
    low: list[int] = []
    while errpipe_write < 3:  # not 0, 1 or 2: the child dups the standard streams there
        low.append(errpipe_write)
        errpipe_write = os.dup(errpipe_write)
    for fd in low:
        os.close(fd)
    try:
        try:  # close_fds: all but the standard streams and errpipe_write (pass_fds)
            common = (
                args, executables(executable, env), True, (errpipe_write,), cwd, env_list,
                p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite,
                errpipe_read, errpipe_write, True, False,
            )  # fmt: skip
            if LAYOUT == "3.10":
                pid: int = _fork_exec(*common, None, None, None, -1, preexec_fn)
            else:
                group = -1 if process_group is None else process_group
                pid = _fork_exec(*common, group, None, None, None, -1, preexec_fn, True)
        finally:
            os.close(errpipe_write)
        data = bytearray()
        while True:  # empty at once when the exec succeeded (the pipe is close-on-exec)
            part = os.read(errpipe_read, 50000)
            data += part
            if not part or len(data) > 50000:
                break
    finally:
        os.close(errpipe_read)
    if data:
        try:  # noqa: SIM105 (no contextlib on the hot path)
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        _raise_child_error(bytes(data), cwd, executable)
    return pid


def stdout_fd() -> int:
    out = sys.__stdout__
    return out.fileno() if out is not None else 1


def handle(spec: Stream, for_stdin: bool, ours: list[int], theirs: list[int]) -> tuple[int, int]:
    """(read end, write end) of one standard stream, as subprocess's _get_handles: -1 where
    there is none."""
    if spec is None:
        return -1, -1
    if spec == PIPE:
        read, write = os.pipe()
        ours.append(write if for_stdin else read)
        theirs.append(read if for_stdin else write)
        return read, write
    if spec == DEVNULL:
        fd = os.open(os.devnull, os.O_RDWR)
        theirs.append(fd)
        return (fd, -1) if for_stdin else (-1, fd)
    if spec == STDOUT:
        raise ValueError("STDOUT is only for stderr")
    fd = spec if isinstance(spec, int) else spec.fileno()
    return (fd, -1) if for_stdin else (-1, fd)


def _raise_child_error(data: bytes, cwd: object, executable: str) -> None:
    """The error the child reported, raised as subprocess raises it."""
    try:
        name, hex_errno, raw = data.split(b":", 2)
        message = raw.decode()
    except ValueError:
        name, hex_errno = b"SubprocessError", b"0"
        message = f"Bad exception data from child: {data!r}"
    kind = getattr(builtins, name.decode("ascii"), None)
    if kind is None or not (isinstance(kind, type) and issubclass(kind, BaseException)):
        import subprocess  # only here: an error subprocess would raise as its own

        kind = subprocess.SubprocessError
    if issubclass(kind, OSError) and hex_errno:
        errno_num = int(hex_errno, 16)
        filename: object = executable
        if message in ("noexec", "noexec:chdir"):  # not exec: chdir(cwd) (3.13 says which)
            chdir = message == "noexec:chdir" or sys.version_info < (3, 13)
            filename = cwd if chdir else None
            message = ""
        if errno_num != 0:
            message = os.strerror(errno_num)
        if filename is None:
            raise kind(errno_num, message)
        raise kind(errno_num, message, filename)
    raise kind(message)


def _encoded(env: Mapping[str, str]) -> list[bytes]:
    """`env` as the child's `KEY=VALUE` byte strings, as subprocess encodes them; the last
    environment's encoding is kept, since a commit starts each git with the same one."""
    global _last_env
    last = _last_env  # one read of the global: another thread may replace it meanwhile
    if last is not None and last[0] == env:
        return last[1]
    env_list = []
    for k, v in env.items():
        key = os.fsencode(k)
        if b"=" in key:
            raise ValueError("illegal environment variable name")
        env_list.append(key + b"=" + os.fsencode(v))
    _last_env = (dict(env), env_list)
    return env_list


_last_env: tuple[dict[str, str], list[bytes]] | None = None
