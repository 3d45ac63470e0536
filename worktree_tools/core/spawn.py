"""A lean `subprocess.Popen` for git: `os.posix_spawn` and `select.poll`, nothing else loaded.

`import subprocess` costs a wt-commit ~14 ms of CPU (locale, re, enum, threading, selectors)
for the dozen git processes a commit starts. `Process` is the part of `subprocess.Popen` the
package uses, with its semantics: pipes as buffered file objects (`bufsize` as Popen's), PIPE,
DEVNULL, STDOUT or a file descriptor per stream; `communicate` writes the input and reads both
pipes without deadlock, ignoring a broken pipe on input; `returncode` negative for a signal;
the signals Python ignores (SIGPIPE, SIGXFSZ) back to their default in the child, as
`restore_signals`; the executable found on the child environment's PATH.

The differences: a working directory is the caller's business (gitcmd passes `git -C DIR`:
posix_spawn cannot change it in the child), and there is no `preexec_fn` (gitcmd falls back to
subprocess itself for that). Only `communicate(timeout=)`/`wait(timeout=)` import subprocess,
for its TimeoutExpired.

On wt-commit's hot path: imports only what the interpreter has already loaded.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # loaded at start-up; signal loads enum
import fcntl
import os
import select
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Mapping, Sequence
    from typing import IO

    Stream = int | IO[bytes] | None

PIPE = -1  # the values of subprocess.PIPE, STDOUT and DEVNULL: callers may pass either
STDOUT = -2
DEVNULL = -3
_CHUNK = 32768
_PIPE_BUF = getattr(select, "PIPE_BUF", 512)  # as subprocess: such a write never blocks
_RESTORED = tuple(
    getattr(_signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(_signal, name)
)
_FOUND: dict[tuple[str, str], str] = {}  # (name, PATH) -> the executable found


def find(name: str, env: Mapping[str, str]) -> str:
    """The executable `name` on the PATH of `env` (as subprocess looks for it: the first entry
    that can be executed); FileNotFoundError when there is none."""
    if os.sep in name:
        return name
    path = env.get("PATH", os.defpath)
    found = _FOUND.get((name, path))
    if found is not None:
        return found
    for entry in os.get_exec_path({"PATH": path}):
        candidate = os.path.join(entry, name)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            _FOUND[(name, path)] = candidate
            return candidate
    raise FileNotFoundError(2, "No such file or directory", name)


class Process:
    """A started child process: `subprocess.Popen`'s attributes and methods that callers use."""

    __slots__ = ("_started", "_sub", "args", "pid", "returncode", "stderr", "stdin", "stdout")

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        stdin: Stream = None,
        stdout: Stream = None,
        stderr: Stream = None,
        bufsize: int = -1,
        setpgroup: int | None = None,
    ) -> None:
        self.args = list(args)
        self.stdin: IO[bytes] | None = None
        self.stdout: IO[bytes] | None = None
        self.stderr: IO[bytes] | None = None
        self.returncode: int | None = None
        self._started = False  # communicate() began (subprocess's _communication_started)
        self._sub: subprocess.Popen[bytes] | None = None
        actions: list[tuple[int, ...] | tuple[int, int, str, int, int]] = []
        mine: list[int] = []  # our ends of the pipes
        theirs: list[int] = []  # the child's ends, closed here once it started
        try:
            ends = []
            for target, spec in ((0, stdin), (1, stdout), (2, stderr)):
                if spec is None:
                    ends.append(-1)
                    continue
                if spec == DEVNULL:
                    mode = os.O_RDONLY if target == 0 else os.O_WRONLY
                    actions.append((os.POSIX_SPAWN_OPEN, target, os.devnull, mode, 0))
                    ends.append(-1)
                    continue
                if spec == STDOUT:
                    if target != 2:
                        raise ValueError("STDOUT is only for stderr")
                    actions.append((os.POSIX_SPAWN_DUP2, 1, 2))
                    ends.append(-1)
                    continue
                if spec == PIPE:
                    read, write = os.pipe()
                    ours, child = (write, read) if target == 0 else (read, write)
                    mine.append(ours)
                    theirs.append(child)
                    ends.append(ours)
                else:
                    child = spec if isinstance(spec, int) else spec.fileno()
                    ends.append(-1)
                if child < 3:  # a dup2 onto a standard stream must not undo another one
                    child = fcntl.fcntl(child, fcntl.F_DUPFD_CLOEXEC, 3)
                    theirs.append(child)
                actions.append((os.POSIX_SPAWN_DUP2, child, target))
            path = find(self.args[0], env)
            if setpgroup is None:
                self.pid = os.posix_spawn(
                    path, self.args, env, file_actions=actions, setsigdef=_RESTORED
                )
            else:
                self.pid = os.posix_spawn(
                    path, self.args, env, file_actions=actions, setsigdef=_RESTORED,
                    setpgroup=setpgroup,
                )  # fmt: skip
        except BaseException:
            for fd in mine:
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        if ends[0] >= 0:
            self.stdin = open(ends[0], "wb", bufsize)  # noqa: SIM115 (closed by the caller)
        if ends[1] >= 0:
            self.stdout = open(ends[1], "rb", bufsize)  # noqa: SIM115
        if ends[2] >= 0:
            self.stderr = open(ends[2], "rb", bufsize)  # noqa: SIM115

    @classmethod
    def adopt(cls, sub: subprocess.Popen[bytes]) -> Process:
        """A Process for a child that subprocess started (one that needed a preexec_fn):
        waiting and polling go through `sub`, so that only one of the two reaps it."""
        self = cls.__new__(cls)
        self.args = list(sub.args)  # type: ignore[arg-type]
        self.pid = sub.pid
        self.stdin, self.stdout, self.stderr = sub.stdin, sub.stdout, sub.stderr
        self.returncode = None
        self._started = False
        self._sub = sub
        return self

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stdout:
            self.stdout.close()
        if self.stderr:
            self.stderr.close()
        try:  # flushing a buffered stdin may raise
            if self.stdin:
                self.stdin.close()
        finally:
            self.wait()

    def __repr__(self) -> str:
        return f"<Process: returncode: {self.returncode} args: {self.args!r}>"

    def poll(self) -> int | None:
        """The exit code if the process has ended, else None (it is not waited for)."""
        if self._sub is not None:
            self.returncode = self._sub.poll()
        elif self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = 0  # as subprocess: someone else reaped it
            else:
                if pid == self.pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the process to end; its exit code (-N: killed by signal N)."""
        if self.returncode is not None:
            return self.returncode
        if self._sub is not None:
            self.returncode = self._sub.wait(timeout)
            return self.returncode
        if timeout is not None:
            return self._wait_until(time.monotonic() + timeout, timeout)
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            self.returncode = 0
        else:
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def _wait_until(self, end: float, timeout: float | None) -> int:
        delay = 0.0005  # subprocess's own busy loop for a timed wait
        while self.poll() is None:
            left = end - time.monotonic()
            if left <= 0:
                _timeout(self.args, timeout)
            delay = min(delay * 2, left, 0.05)
            time.sleep(delay)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """Signal the process, unless it is known to have ended (its pid may be reused)."""
        self.poll()
        if self.returncode is not None:
            return
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            return

    def terminate(self) -> None:
        self.send_signal(_signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(_signal.SIGKILL)

    def communicate(
        self, input: bytes | None = None, timeout: float | None = None
    ) -> tuple[bytes | None, bytes | None]:
        """Write `input` (then close stdin), read stdout and stderr to their end, wait."""
        if self._started and input:
            raise ValueError("Cannot send input after starting communication")
        streams = (self.stdin, self.stdout, self.stderr)
        if timeout is None and not self._started and streams.count(None) >= 2:
            out = err = None
            if self.stdin:
                self._write_all(input)
            elif self.stdout:
                out = self.stdout.read()
                self.stdout.close()
            elif self.stderr:
                err = self.stderr.read()
                self.stderr.close()
            self.wait()
            return out, err
        end = None if timeout is None else time.monotonic() + timeout
        try:
            out, err = self._exchange(input, end, timeout)
        finally:
            self._started = True
        if end is None:
            self.wait()
        else:
            self._wait_until(end, timeout)
        return out, err

    def _write_all(self, data: bytes | None) -> None:
        """subprocess's _stdin_write: write, then close; a reader that has gone is no error."""
        assert self.stdin is not None
        try:
            if data:
                self.stdin.write(data)
        except BrokenPipeError:
            pass
        _close(self.stdin)

    def _exchange(
        self, input: bytes | None, end: float | None, timeout: float | None
    ) -> tuple[bytes | None, bytes | None]:
        stdin = self.stdin
        if stdin and not self._started:
            try:  # noqa: SIM105 (no contextlib on the hot path)
                stdin.flush()
            except BrokenPipeError:
                pass
            if not input:
                _close(stdin)
        chunks: dict[IO[bytes], list[bytes]] = {}  # as subprocess: a stream closed by the
        for stream in (self.stdout, self.stderr):  # caller reads as b""
            if stream:
                chunks[stream] = []
        files: dict[int, IO[bytes]] = {}
        poller = select.poll()
        view = memoryview(input or b"")
        offset = 0
        if stdin and input and not stdin.closed:
            files[stdin.fileno()] = stdin
            poller.register(stdin.fileno(), select.POLLOUT)
        for stream in chunks:
            if not stream.closed:
                files[stream.fileno()] = stream
                poller.register(stream.fileno(), select.POLLIN | select.POLLPRI)
        while files:
            wait_ms = None
            if end is not None:
                left = end - time.monotonic()
                if left <= 0:
                    _timeout(self.args, timeout)
                wait_ms = int(left * 1000) + 1
            for fd, _ in poller.poll(wait_ms):
                stream = files.get(fd)
                if stream is None:
                    continue
                if stream is stdin:
                    try:
                        offset += os.write(fd, view[offset : offset + _PIPE_BUF])
                    except BrokenPipeError:
                        offset = len(view)
                    if offset >= len(view):
                        poller.unregister(fd)
                        del files[fd]
                        _close(stdin)
                else:
                    data = os.read(fd, _CHUNK)
                    if not data:
                        poller.unregister(fd)
                        del files[fd]
                        stream.close()
                    chunks[stream].append(data)
        out = b"".join(chunks[self.stdout]) if self.stdout else None
        err = b"".join(chunks[self.stderr]) if self.stderr else None
        return out, err


def _close(stream: IO[bytes]) -> None:
    """Close a pipe to the child; a child that has gone is no error (as subprocess)."""
    try:
        stream.close()
    except BrokenPipeError:
        return


def _timeout(args: list[str], timeout: float | None) -> None:
    import subprocess  # only here: a caller catches subprocess.TimeoutExpired

    raise subprocess.TimeoutExpired(args, timeout or 0.0)
