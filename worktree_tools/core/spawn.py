"""A lean `subprocess.Popen` for git: the same C call to start a child, without the import.

`import subprocess` costs a wt-commit ~14 ms of CPU (locale, re, enum, threading, selectors,
signal) for the dozen git processes a commit starts. `Process` is the part of
`subprocess.Popen` the package uses, with its semantics: the child is started by the call
`subprocess.Popen` makes (`_posixsubprocess.fork_exec`, a C module loaded at start-up, vfork
where it can) with the same arguments (close_fds, restore_signals, the working directory, a
process group, a preexec_fn; the executable looked up on the child environment's PATH; a
failure to start raised as the same OSError); pipes are buffered file objects (`bufsize` as
Popen's); PIPE, DEVNULL, STDOUT or a file descriptor per stream; `communicate` writes the input
and reads both pipes without deadlock (select.poll), ignoring a broken pipe on input;
`returncode` is negative for a signal. Only `communicate(timeout=)`/`wait(timeout=)` import
subprocess, for its TimeoutExpired; a Python whose fork_exec this module does not know starts
its children through subprocess itself (`Process.adopt`).

On wt-commit's hot path: imports only what the interpreter has already loaded (and select).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # loaded at start-up; signal loads enum
import os
import select
import time

from worktree_tools.core import forkexec
from worktree_tools.core.forkexec import DEVNULL as DEVNULL
from worktree_tools.core.forkexec import PIPE as PIPE
from worktree_tools.core.forkexec import STDOUT as STDOUT

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Mapping, Sequence
    from typing import IO, Any

    Stream = int | IO[bytes] | None

_CHUNK = 32768
_PIPE_BUF = getattr(select, "PIPE_BUF", 512)  # as subprocess: such a write never blocks


class Process:
    """A started child process: `subprocess.Popen`'s attributes and methods that callers use."""

    __slots__ = ("_started", "_sub", "args", "pid", "returncode", "stderr", "stdin", "stdout")

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | os.PathLike[str] | None = None,
        stdin: Stream = None,
        stdout: Stream = None,
        stderr: Stream = None,
        bufsize: int = -1,
        process_group: int | None = None,
        preexec_fn: Callable[[], object] | None = None,
    ) -> None:
        if forkexec.LAYOUT is None or (process_group is not None and forkexec.LAYOUT == "3.10"):
            raise NotImplementedError("this Python starts children through subprocess")
        self.args = list(args)
        self.stdin: IO[bytes] | None = None
        self.stdout: IO[bytes] | None = None
        self.stderr: IO[bytes] | None = None
        # typed as typeshed types Popen's: None until the process is known to have ended
        self.returncode: int | Any = None
        self._started = False  # communicate() began (subprocess's _communication_started)
        self._sub: subprocess.Popen[bytes] | None = None
        ours: list[int] = []  # our ends of the pipes: file objects once the child runs
        theirs: list[int] = []  # what we opened for the child: closed once it runs
        try:
            p2cread, p2cwrite = forkexec.handle(stdin, True, ours, theirs)
            c2pread, c2pwrite = forkexec.handle(stdout, False, ours, theirs)
            if stderr == STDOUT:
                errread, errwrite = -1, c2pwrite if c2pwrite != -1 else forkexec.stdout_fd()
            else:
                errread, errwrite = forkexec.handle(stderr, False, ours, theirs)
            self.pid = forkexec.start(
                self.args, env, cwd, p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite,
                process_group, preexec_fn,
            )  # fmt: skip
        except BaseException:
            for fd in ours:
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        ends = (p2cwrite, c2pread, errread)
        if ends[0] != -1:
            self.stdin = open(ends[0], "wb", bufsize)  # noqa: SIM115 (closed by the caller)
        if ends[1] != -1:
            self.stdout = open(ends[1], "rb", bufsize)  # noqa: SIM115
        if ends[2] != -1:
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
    ) -> tuple[bytes, bytes]:  # as typeshed types Popen's: None for a stream not piped
        """Write `input` (then close stdin), read stdout and stderr to their end, wait."""
        if self._started and input:
            raise ValueError("Cannot send input after starting communication")
        streams = (self.stdin, self.stdout, self.stderr)
        out: Any = None  # bytes, or None for a stream not piped
        err: Any = None
        if timeout is None and not self._started and streams.count(None) >= 2:
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
        close_pipe(self.stdin)

    def _exchange(
        self, input: bytes | None, end: float | None, timeout: float | None
    ) -> tuple[Any, Any]:
        stdin = self.stdin
        if stdin and not self._started:
            try:  # noqa: SIM105 (no contextlib on the hot path)
                stdin.flush()
            except BrokenPipeError:
                pass
            if not input:
                close_pipe(stdin)
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
                        close_pipe(stdin)
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


def close_pipe(stream: IO[bytes]) -> None:
    """Close a pipe to the child; a child that has gone is no error (as subprocess)."""
    try:
        stream.close()
    except BrokenPipeError:
        return


def _timeout(args: list[str], timeout: float | None) -> None:
    import subprocess  # only here: a caller catches subprocess.TimeoutExpired

    raise subprocess.TimeoutExpired(args, timeout or 0.0)
