"""`wt-commit --push/--fence`: the local commit, wrapped in the remote's compare-and-swap.

The fence is checked before the local commit (on the remote with --remote/--push, else in this
repository); with --push the server enforces it again atomically with the branch update. The
push runs after the local commit, also when that was `unchanged`, so re-running a command whose
push ran out of retries pushes the commit it already made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from worktree_tools.commit.request import CommitRequest, CommitResult
from worktree_tools.commit.run import run
from worktree_tools.core.errors import InvalidInput
from worktree_tools.remote.push import PushOutcome

DEFAULT_RETRIES = 30  # 8 machines hammering one branch needed up to ~30 for one commit


@dataclass(frozen=True)
class RemoteOptions:
    push: bool = False
    remote: str | None = None
    retries: int = DEFAULT_RETRIES
    fence: str | None = None  # NAME:TOKEN

    @property
    def wanted(self) -> bool:
        return self.push or self.fence is not None

    def validate(self) -> None:
        if self.remote is not None and not self.wanted:
            raise InvalidInput("--remote goes with --push or --fence")
        if self.retries < 0:
            raise InvalidInput("--retries must be 0 or more")


def commit_and_push(
    req: CommitRequest, opts: RemoteOptions
) -> tuple[CommitResult, PushOutcome | None]:
    opts.validate()
    from worktree_tools.core import agent as agent_mod
    from worktree_tools.core.repo import discover
    from worktree_tools.remote.fence import Fence, check_fence
    from worktree_tools.remote.push import push_commit
    from worktree_tools.remote.transport import default_remote

    wt = discover(Path(req.cwd))
    who, _ = agent_mod.resolve(req.agent, wt.gitdir)
    remote = opts.remote or (default_remote(wt) if opts.push else None)
    fence = None
    if opts.fence is not None:
        fence = Fence.parse(opts.fence)
        check_fence(
            wt, fence.name, fence.token, remote=remote, agent=who, lock_timeout=req.lock_timeout
        )
    result = run(req)
    if not opts.push or remote is None:
        return result, None
    pushed = push_commit(
        wt, result, remote=remote, retries=opts.retries, agent=result.agent, fence=fence,
        lock_timeout=req.lock_timeout,
    )  # fmt: skip
    return result, pushed
