"""`git wt land`: turn names into requests, queue them, and wait (landing them ourselves when
no lander is at work) or hand the queue to a background lander (`--no-wait`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from worktree_tools.core.agent import valid_name
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.repo import Worktree
from worktree_tools.land import requests as rq
from worktree_tools.land.lander import try_drain
from worktree_tools.land.requests import Request, State, Strategy
from worktree_tools.remote import transport
from worktree_tools.worktrees import records

POLL_START = 0.005
POLL_MAX = 0.1
RUNNER_LOG = "lander.log"


@dataclass(frozen=True)
class Options:
    into: str | None
    strategy: Strategy | None
    check: str | None
    check_timeout: float | None
    batch: int | None
    remote: str | None  # set: --push to this remote
    agent: str  # who asks
    lock_timeout: float


def _config(wt: Worktree, key: str) -> str | None:
    res = wt.git(["config", "--get", key], check=False)
    return res.out.strip() or None if res.returncode == 0 else None


def batch_size(wt: Worktree, given: int | None) -> int:
    if given is not None:
        return given
    raw = _config(wt, "wt.land.batch")
    if raw is None:
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput(
            f"wt.land.batch must be a whole number of 1 or more, not {raw!r}",
            fix="git config wt.land.batch 4",
        )
    return int(raw)


def _owner_of(wt: Worktree, branch: str) -> str | None:
    recs, _bad = records.load_all(wt.state_dir)
    for rec in recs:
        if rec.branch == branch:
            return rec.agent
    return None


def _resolve(wt: Worktree, name: str) -> tuple[str, str | None, str | None]:
    """(branch, owning agent, the agent's base branch) for an AGENT or BRANCH argument."""
    if valid_name(name):
        try:
            rec = records.load(wt.state_dir, name)
        except records.CorruptRecord:
            rec = None
        if rec is not None:
            return rec.branch, rec.agent, rec.base
    branch = name.removeprefix("refs/heads/")
    if not branch or branch.startswith("-") or wt.resolve(f"refs/heads/{branch}") is None:
        raise InvalidInput(
            f"{name!r} is neither an agent with a worktree nor a local branch",
            fix="git wt list (agents) or git branch --list (branches), then git wt land NAME "
            "--into BRANCH",
        )
    return branch, _owner_of(wt, branch), None


def build(wt: Worktree, names: list[str], opts: Options) -> list[Request]:
    """The requests for `names` (default: this worktree's branch), validated; nothing written."""
    if not names:
        ref = wt.head_ref()
        if ref is None:
            raise InvalidInput(
                "HEAD is detached: name what to land", fix="git wt land AGENT|BRANCH --into BRANCH"
            )
        names = [ref.removeprefix("refs/heads/")]
    strategy = opts.strategy or _strategy(wt)
    check = opts.check if opts.check is not None else _config(wt, "wt.land.check")
    timeout = opts.check_timeout if opts.check_timeout is not None else _seconds(wt)
    out: list[Request] = []
    for name in names:
        branch, agent, base = _resolve(wt, name)
        into = (opts.into or _config(wt, "wt.land.into") or base or "").removeprefix("refs/heads/")
        if not into:
            raise InvalidInput(
                f"where should {branch} land?", fix=f"git wt land {name} --into main"
            )
        if into == branch:
            raise InvalidInput(
                f"{branch} cannot land into itself", fix=f"git wt land {name} --into main"
            )
        if opts.remote is None and wt.resolve(f"refs/heads/{into}") is None:
            raise InvalidInput(
                f"the target branch {into!r} does not exist",
                fix=f"git branch {into} (or land with --push into the remote's branch)",
            )
        head = wt.resolve(f"refs/heads/{branch}")
        assert head is not None  # _resolve checked it (or the record names it)
        out.append(
            Request(
                id="",
                target=into,
                branch=branch,
                head=head[0],
                agent=agent,
                requested_by=opts.agent,
                strategy=strategy,
                check=check or None,
                check_timeout=timeout,
                remote=opts.remote,
                state=State.QUEUED,
                enqueued_epoch=time.time(),
            )
        )
    if opts.remote is not None:
        transport.check_remote(opts.remote)
    return out


def _seconds(wt: Worktree) -> float | None:
    raw = _config(wt, "wt.land.checkTimeout")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise InvalidInput(
            f"wt.land.checkTimeout must be a positive number of seconds, not {raw!r}",
            fix="git config wt.land.checkTimeout 1800",
        )
    return value


def _strategy(wt: Worktree) -> Strategy:
    raw = _config(wt, "wt.land.strategy")
    if raw is None:
        return Strategy.REBASE
    try:
        return Strategy(raw)
    except ValueError:
        raise InvalidInput(
            f"wt.land.strategy must be rebase, squash or merge, not {raw!r}",
            fix="git config wt.land.strategy rebase",
        ) from None


def submit(wt: Worktree, reqs: list[Request], lock_timeout: float) -> list[tuple[Request, bool]]:
    deadline = time.monotonic() + lock_timeout
    return [rq.enqueue(wt.state_dir, r, deadline) for r in reqs]


def wait(
    wt: Worktree, reqs: list[Request], agent: str, batch: int, lock_timeout: float
) -> list[Request]:
    """Until every request is final: land the queue ourselves whenever no lander is at work."""
    ids = [r.id for r in reqs]
    delay = POLL_START
    while True:
        now = [rq.load(wt.state_dir, i) for i in ids]
        gone = [i for i, r in zip(ids, now, strict=True) if r is None]
        if gone:
            raise InvalidInput(
                f"land request {gone[0]} vanished from {rq.requests_dir(wt.state_dir)}",
                fix="git wt land --list --all (then queue the branch again)",
            )
        if all(r is not None and r.state.final for r in now):
            return [r for r in now if r is not None]
        drained = False
        for key in dict.fromkeys(r.key for r in reqs):
            drained |= try_drain(wt, key[0], key[1], agent, batch, lock_timeout)
        if not drained:
            time.sleep(delay)
            delay = min(delay * 2, POLL_MAX)


def autostart(wt: Worktree) -> bool:
    """Whether `--no-wait` starts a background lander; `wt.land.autostart false` leaves the
    queue to a lander service (`git wt land --run --into BRANCH`)."""
    raw = (_config(wt, "wt.land.autostart") or "true").lower()
    if raw not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
        raise InvalidInput(
            f"wt.land.autostart must be true or false, not {raw!r}",
            fix="git config wt.land.autostart true",
        )
    return raw in ("true", "yes", "on", "1")


def spawn_lander(wt: Worktree, target: str, remote: str | None, agent: str, batch: int) -> int:
    """A background lander for `--no-wait` (it exits at once if another lander is at work, and
    that one lands our request: it drains the queue)."""
    args = [
        sys.executable,
        "-m",
        "worktree_tools",
        "land",
        "--run",
        "--into",
        target,
        "--batch",
        str(batch),
        "--agent",
        agent,
    ]
    if remote:
        args += ["--push", "--remote", remote]
    log = rq.land_dir(wt.state_dir) / RUNNER_LOG
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            args,
            cwd=wt.toplevel,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
            env={**os.environ, "WT_AGENT": agent},
        )
    return proc.pid


def run(
    wt: Worktree, target: str, remote: str | None, agent: str, batch: int, lock_timeout: float
) -> bool:
    """`--run`: land the queue unless another lander is at work (then it lands ours)."""
    return try_drain(wt, target, remote, agent, batch, lock_timeout)


def runner_log(wt: Worktree) -> Path:
    return rq.land_dir(wt.state_dir) / RUNNER_LOG
