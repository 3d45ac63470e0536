"""The one way worktree-tools moves a ref: compare-and-swap, one failure policy, one reflog format.

Every ref the tools create, move or delete (a branch landing a commit, a fast-forward, a lease,
a journal checkpoint, a rescue, a branch gc deletes, a hook checkout's HEAD) goes through
`move`: `git update-ref -m MESSAGE REF NEW OLD` with an expected old value always given (the
null id when the ref must not exist), so nothing is ever overwritten that someone else wrote.
Several refs that must move together (the task board and its claims) go through `transaction`:
one `git update-ref --stdin` transaction, every ref or none, with the same policy. A move whose
process must not start under a lock (wt-commit's landing, under the repository lock) uses
`Pending`: the same `git update-ref --stdin`, started ahead, its transaction finished under the
lock, with the same policy.

Failure policy, the same everywhere:
- the ref is not at `expected` -> RefMoved (exit 4, conflict) carrying `current` (None: absent)
  (in a transaction: the first ref that is not);
- the ref is at `expected` but its `.lock` is held by another git process -> wait for it (a
  stale lock is removed and reported) until `deadline`, then LockTimeout (exit 3), and try again;
- git refuses for any other reason -> Rejected (exit 6).

The reflog message names the tool and the agent: `reflog(tool, agent, what)` gives
`<tool> (<agent>): <what>`, e.g. `wt-commit (alice): fix the parser` or
`git wt gc (bob): integrated`.

On wt-commit's hot path: no pygit2, no psutil.
"""

from __future__ import annotations

import os
import time

from worktree_tools.core import permit
from worktree_tools.core.errors import RefMoved, Rejected
from worktree_tools.core.gitcmd import popen
from worktree_tools.core.repo import null_oid
from worktree_tools.core.spawn import DEVNULL, PIPE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from types import TracebackType
    from typing import Any

    from worktree_tools.core.gitcmd import GitResult
    from worktree_tools.core.gitlocks import StaleReport
    from worktree_tools.core.repo import Worktree
    from worktree_tools.core.spawn import Process


def reflog(tool: str, agent: str, what: str | None = None) -> str:
    """The reflog message of a ref move: `<tool> (<agent>): <what>`."""
    head = f"{tool} ({agent})"
    return f"{head}: {what}" if what else head


def search_dirs(wt: Worktree) -> list[Path]:
    """Where a git process holding one of this repository's ref locks may work: in any of its
    worktrees, so this one, the git dirs and the main worktree around `<top>/.git`."""
    dirs = [wt.toplevel, wt.gitdir, wt.commondir]
    if wt.commondir.name == ".git":
        dirs.append(wt.commondir.parent)
    return dirs


def current(wt: Worktree, ref: str) -> str | None:
    """Where `ref` points now (not peeled, not dereferenced), None when it does not exist."""
    if ref.startswith("refs/"):
        return currents(wt, [ref]).get(ref)
    out = wt.git(["rev-parse", "-q", "--verify", ref], check=False).out.strip()
    return out or None


def currents(wt: Worktree, names: Sequence[str]) -> dict[str, str]:
    """Where each of `names` (full `refs/...` names) points now, in one git call; a ref that
    does not exist is left out. Any object type (a claim ref names a blob)."""
    res = wt.git(["for-each-ref", "--format=%(objectname) %(refname)", *names])
    wanted = set(names)
    out: dict[str, str] = {}
    for line in res.out.splitlines():
        oid, _, name = line.partition(" ")
        if name in wanted:
            out[name] = oid
    return out


class RefUpdate:
    """One ref of a transaction: from `old` (None: must not exist) to `new` (None: delete)."""

    __slots__ = ("new", "old", "ref")

    def __init__(self, ref: str, new: str | None, old: str | None) -> None:
        self.ref, self.new, self.old = ref, new, old

    def __repr__(self) -> str:
        return f"RefUpdate(ref={self.ref!r}, new={self.new!r}, old={self.old!r})"

    def line(self) -> str:
        """The `git update-ref --stdin` command for it."""
        if self.new is None:
            if self.old is None:
                raise ValueError("a deletion needs the expected old value")
            return f"delete {self.ref} {self.old}\n"
        return f"update {self.ref} {self.new} {self.old or null_oid(self.new)}\n"


def _ignore(info: dict[str, Any]) -> None:
    return None


def move(
    wt: Worktree,
    ref: str,
    new: str | None,
    expected: str | None,
    message: str,
    *,
    deadline: float | None = None,
    report: StaleReport | None = None,
    permitted: bool = True,
    no_deref: bool = False,
) -> None:
    """Move `ref` from `expected` (None: must not exist) to `new` (None: delete it).

    `permitted`: hold the guard's pass (core/permit.py) so the reference-transaction guard lets
    this move through; every move of the tools' own is permitted. `deadline` (monotonic) bounds
    the wait for a ref lock another git process holds; None waits not at all."""
    if new is None and expected is None:
        raise ValueError("a deletion needs the expected old value")
    like = new or expected or ""
    old = expected or null_oid(like)
    args = ["update-ref", "-m", message]
    if no_deref:
        args.append("--no-deref")
    args += ["-d", ref, old] if new is None else [ref, new, old]
    _run(wt, args, None, [(ref, expected)], deadline, report, permitted)


def transaction(
    wt: Worktree,
    updates: Sequence[RefUpdate],
    message: str,
    *,
    deadline: float | None = None,
    report: StaleReport | None = None,
    permitted: bool = True,
) -> None:
    """Move every ref of `updates` from its `old` to its `new`, or none of them: one
    `git update-ref --stdin` transaction, with `move`'s failure policy and reflog message."""
    if not updates:
        return
    data = "".join(u.line() for u in updates).encode()
    args = ["update-ref", "-m", message, "--stdin"]
    _run(wt, args, data, [(u.ref, u.old) for u in updates], deadline, report, permitted)


def _lock_of(wt: Worktree, ref: str) -> str:
    if ref == "HEAD" or not ref.startswith("refs/"):
        return os.path.join(wt.gitdir_str, ref + ".lock")
    return os.path.join(wt.commondir_str, ref + ".lock")


def _run(
    wt: Worktree,
    args: list[str],
    data: bytes | None,
    expected: list[tuple[str, str | None]],
    deadline: float | None,
    report: StaleReport | None,
    permitted: bool,
) -> None:
    """Run the update until it succeeds or the failure policy decides (module docstring)."""
    stop = time.monotonic() if deadline is None else deadline
    reporter: Callable[[dict[str, Any]], None] = report or _ignore
    while True:
        res = _update(wt, args, data, permitted)
        if res.returncode == 0:
            return
        names = [ref for ref, _ in expected]
        now_at = currents(wt, [n for n in names if n.startswith("refs/")])
        for ref, old in expected:
            now = now_at.get(ref) if ref.startswith("refs/") else current(wt, ref)
            if now != old:
                raise _moved(ref, now, old)
        held = next((lock for n in names if os.path.exists(lock := _lock_of(wt, n))), None)
        if held is not None:
            from pathlib import Path  # only here: a ref lock another git holds

            from worktree_tools.core.gitlocks import wait_until_free

            wait_until_free(Path(held), search_dirs(wt), stop, reporter)  # LockTimeout at `stop`
            continue
        raise Rejected(f"git refused to move {', '.join(names)}: {res.err.strip()}")


def _update(wt: Worktree, args: list[str], data: bytes | None, permitted: bool) -> GitResult:
    if not permitted:
        return wt.git(args, input=data, check=False)
    with permit.granted(wt):
        return wt.git(args, input=data, check=False)


def _moved(ref: str, now: str | None, expected: str | None) -> RefMoved:
    return RefMoved(
        f"{ref} is at {now[:12] if now else 'nothing'}, not at "
        f"{expected[:12] if expected else 'nothing'}; it was not moved",
        fix=f"inspect `git log -g {ref}` and run the same command again",
        current=now,
    )


class Pending:
    """A `move` whose git process is started ahead of a lock: `git update-ref --stdin` opens
    the transaction (`start`, `update REF NEW OLD`) while the caller still prepares, so that
    under the lock `finish` pays one pipe round trip (`prepare`, `commit`) instead of starting
    a process. The expected old value is checked by git at `prepare`, under the lock, as in
    `move`. Anything but `prepare: ok` / `commit: ok` ends in `move`'s failure policy (RefMoved,
    a wait for a held ref lock, Rejected); a transaction never finished is aborted on exit.

        with refs.Pending(wt, ref, new, expected, message) as pending:
            ...                      # no lock yet: git starts meanwhile
            pending.ready()          # git has started (call before taking the lock)
            with lock:
                pending.finish(deadline=deadline, report=report)
    """

    def __init__(self, wt: Worktree, ref: str, new: str, expected: str | None, message: str):
        self.wt, self.ref, self.new, self.expected, self.message = wt, ref, new, expected, message
        self._permit = permit.granted(wt)
        self._proc: Process | None = None
        self._ready = False

    def __enter__(self) -> Pending:
        self._permit.__enter__()  # the guard lets this process's update-ref through
        old = self.expected or null_oid(self.new)
        try:
            proc = popen(
                ["update-ref", "-m", self.message, "--stdin"],
                cwd=self.wt.toplevel_str,
                env=self.wt.env(),
                stdin=PIPE,
                stdout=PIPE,
                stderr=DEVNULL,
            )
        except OSError:
            return self  # finish() falls back to move()
        self._proc = proc
        try:
            assert proc.stdin is not None
            proc.stdin.write(f"start\nupdate {self.ref} {self.new} {old}\n".encode())
            proc.stdin.flush()
        except OSError:
            self._drop()
        return self

    def ready(self) -> None:
        """Wait until git has started and opened the transaction (so that the lock taken next
        is not held while a process starts)."""
        if self._proc is not None and not self._ready:
            self._ready = self._reply(b"start")
            if not self._ready:
                self._drop()

    def finish(self, *, deadline: float | None = None, report: StaleReport | None = None) -> None:
        """Move the ref (under the caller's lock); the errors of `move`."""
        self.ready()
        proc = self._proc
        if proc is not None and proc.stdin is not None:
            try:
                proc.stdin.write(b"prepare\ncommit\n")
                proc.stdin.flush()
                if self._reply(b"prepare") and self._reply(b"commit"):
                    return
            except OSError:
                pass
            self._drop()
        now = current(self.wt, self.ref)
        if now == self.new:
            return  # committed; only git's reply was lost
        if now != self.expected:
            raise _moved(self.ref, now, self.expected)
        # At the expected value and not moved: a held ref lock, or a refusal. move() tells which.
        move(
            self.wt, self.ref, self.new, self.expected, self.message,
            deadline=deadline, report=report, permitted=False,
        )  # fmt: skip

    def _reply(self, command: bytes) -> bool:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            return self._proc.stdout.readline() == command + b": ok\n"
        except OSError:
            return False

    def _drop(self) -> None:
        """End the process; an open transaction is aborted by git when its input ends."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    continue
        proc.wait()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._drop()
        finally:
            self._permit.__exit__(exc_type, exc, tb)
