"""Talking to a remote: read a ref, fetch exact objects, push and classify what the server said.

Every call goes through the worktree's git helper (explicit GIT_DIR, no inherited repository
variables). Nothing here writes a local ref: objects are fetched by id, so concurrent processes in
one repository never contend for a remote-tracking ref's lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from worktree_tools.core.errors import InvalidInput, Rejected
from worktree_tools.core.gitcmd import GitResult, git
from worktree_tools.core.repo import Worktree

if TYPE_CHECKING:
    from worktree_tools.core.refs import RefUpdate


class PushStatus(str, Enum):
    """How the server answered one ref update."""

    OK = "ok"  # updated (fast-forward, new ref, or the leased ref matched)
    UP_TO_DATE = "up_to_date"
    MOVED = "moved"  # not a fast-forward, or the ref no longer holds the expected value
    BUSY = "busy"  # the server could not lock the ref (a concurrent push): retry
    REFUSED = "refused"  # a hook or a policy on the server said no

    @classmethod
    def parse(cls, flag: str, summary: str) -> PushStatus:
        """From one `git push --porcelain` line: its flag and its summary."""
        if flag == "=":
            return cls.UP_TO_DATE
        if flag in (" ", "+", "-", "*"):
            return cls.OK
        if flag != "!":
            raise ValueError(f"unknown push flag {flag!r}")
        text = summary.lower()
        moved = ("non-fast-forward", "fetch first", "stale info", "already", "incorrect old value")
        if any(s in text for s in moved):
            return cls.MOVED
        if any(s in text for s in ("lock", "failed to update ref", "atomic")):
            return cls.BUSY
        return cls.REFUSED


@dataclass(frozen=True)
class PushReport:
    """What one `git push` did to each destination ref."""

    statuses: dict[str, PushStatus]
    summaries: dict[str, str]
    output: str

    def status(self, ref: str) -> PushStatus:
        return self.statuses.get(ref, PushStatus.REFUSED)

    @property
    def ok(self) -> bool:
        return bool(self.statuses) and all(
            s in (PushStatus.OK, PushStatus.UP_TO_DATE) for s in self.statuses.values()
        )

    def worst(self) -> PushStatus:
        """The status that decides what to do next: refused > moved > busy > ok."""
        for status in (PushStatus.REFUSED, PushStatus.MOVED, PushStatus.BUSY):
            if status in self.statuses.values():
                return status
        return PushStatus.OK if self.statuses else PushStatus.BUSY


def default_remote(wt: Worktree) -> str:
    """branch.<current>.remote, else `origin`."""
    ref = wt.head_ref()
    if ref is not None:
        short = ref.removeprefix("refs/heads/")
        res = wt.git(["config", "--get", f"branch.{short}.remote"], check=False)
        if res.returncode == 0 and res.out.strip() and res.out.strip() != ".":
            return res.out.strip()
    return "origin"


def _network(wt: Worktree, args: list[str]) -> GitResult:
    """git talking to a remote: never stop to ask for a password (an agent cannot answer)."""
    return git(args, cwd=wt.toplevel, env=wt.env(GIT_TERMINAL_PROMPT="0"), check=False)


def check_remote(remote: str) -> str:
    if not remote or remote.startswith("-") or any(c in remote for c in "\0\n"):
        raise InvalidInput(f"invalid remote {remote!r}: name a configured remote or a URL")
    return remote


def ls_remote(wt: Worktree, remote: str, pattern: str) -> dict[str, str]:
    """{ref: oid} on the remote for refs matching `pattern` (an exact ref or a `*` glob)."""
    res = _network(wt, ["ls-remote", "--refs", remote, pattern])
    if res.returncode != 0:
        raise Rejected(
            f"cannot read {pattern} from remote {remote!r}: {res.err.strip()}",
            fix=f"check the remote (git remote -v; git ls-remote {remote})",
        )
    refs: dict[str, str] = {}
    for line in res.out.splitlines():
        oid, _, ref = line.partition("\t")
        if ref == pattern or (pattern.endswith("*") and ref.startswith(pattern[:-1])):
            refs[ref] = oid
    return refs


def have(wt: Worktree, oid: str) -> bool:
    return wt.git(["cat-file", "-e", f"{oid}^{{object}}"], check=False).returncode == 0


def fetch_oids(wt: Worktree, remote: str, oids: list[str]) -> bool:
    """Fetch exactly these objects (and what they reach); no ref is written. False when the
    server would not send one (its ref moved on since we read it): read the ref again."""
    missing = [oid for oid in dict.fromkeys(oids) if not have(wt, oid)]
    if not missing:
        return True
    res = _network(
        wt,
        [
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-auto-gc",
            remote,
            *missing,
        ],
    )
    return res.returncode == 0 and all(have(wt, oid) for oid in missing)


def push(
    wt: Worktree,
    remote: str,
    refspecs: list[str],
    *,
    leases: dict[str, str | None] | None = None,
    atomic: bool = False,
    verify: bool = True,
) -> PushReport:
    """`git push --porcelain` of `refspecs` (`OID:REF`), never `--force`. `leases` maps a ref to
    the value it must still hold on the server (None: must not exist): `--force-with-lease`,
    the server's compare-and-swap. Branch pushes pass no lease: they must fast-forward."""
    args = ["push", "--porcelain"]
    if atomic:
        args.append("--atomic")
    if not verify:
        args.append("--no-verify")
    for ref, expected in (leases or {}).items():
        args.append(f"--force-with-lease={ref}:{expected or ''}")
    args += [remote, *refspecs]
    res = _network(wt, args)
    statuses: dict[str, PushStatus] = {}
    summaries: dict[str, str] = {}
    for line in res.out.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or len(parts[0]) != 1:
            continue
        dst = parts[1].rpartition(":")[2]
        statuses[dst] = PushStatus.parse(parts[0], parts[2])
        summaries[dst] = parts[2]
    if not statuses and res.returncode != 0:
        # No porcelain lines: git could not talk to the server at all.
        raise Rejected(
            f"git push to {remote!r} failed: {res.err.strip() or res.out.strip()}",
            fix=f"check the remote (git remote -v; git ls-remote {remote})",
        )
    return PushReport(statuses, summaries, (res.out + res.err).strip())


def swap(wt: Worktree, remote: str, updates: Sequence[RefUpdate], *, what: str, fix: str) -> bool:
    """The server's compare-and-swap of every ref in `updates` (from `old` to `new`), or none:
    one `--atomic` push with a lease on each ref; pre-push hooks are not run (they guard
    branches, not the tools' own records). True when it took them; False when one had moved or
    the server was busy (read and decide again); Rejected naming `what` and `fix` when the
    server refused."""
    report = push(
        wt, remote, [f"{u.new or ''}:{u.ref}" for u in updates],  # an empty source deletes
        leases={u.ref: u.old for u in updates}, atomic=True, verify=False,
    )  # fmt: skip
    worst = report.worst()
    if worst is PushStatus.OK:
        return True
    if worst in (PushStatus.MOVED, PushStatus.BUSY):
        return False
    said = "; ".join(
        report.summaries[u.ref] for u in updates if report.summaries.get(u.ref)
    )  # fmt: skip
    raise Rejected(f"{remote} refused to update {what}: {said or report.output}", fix=fix)


def remote_tip(wt: Worktree, remote: str, ref: str, attempts: int = 5) -> str | None:
    """The remote's value of `ref`, with its objects fetched; None when the ref does not exist."""
    for _ in range(attempts):
        tip = ls_remote(wt, remote, ref).get(ref)
        if tip is None or fetch_oids(wt, remote, [tip]):
            return tip
    raise Rejected(f"could not fetch {ref} from {remote}: it kept moving", fix="retry")
