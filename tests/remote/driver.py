"""Test-only stand-in for `wt-commit --push/--remote/--retries/--fence` until the CLI is wired:
the same calls in the same order (fence check, commit, push), the same exit codes and JSON.

    python driver.py [--remote R] [--push] [--retries N] [--fence NAME:TOKEN] [--agent A]
                     [--loop K --prefix P] -m MSG -- PATH...

With --loop K it makes K commits (writing PATH as "P-k\\n" before each) and pushes each, so a
"machine" is one process.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from worktree_tools.cli._common import emit, run_guarded
from worktree_tools.errors import exit_code


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-m", dest="message", required=True)
    ap.add_argument("--agent")
    ap.add_argument("--remote")
    ap.add_argument("--push", action="store_true")
    ap.add_argument("--retries", type=int, default=8)
    ap.add_argument("--fence")
    ap.add_argument("--loop", type=int, default=0)
    ap.add_argument("--prefix", default="")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args(argv)

    def one(message: str) -> dict[str, Any]:
        from worktree_tools import agent as agent_mod
        from worktree_tools.commit import CommitRequest, run
        from worktree_tools.remote.fence import Fence, check_fence
        from worktree_tools.remote.push import push_commit
        from worktree_tools.repo import discover

        cwd = Path.cwd()
        wt = discover(cwd)
        name, _ = agent_mod.resolve(args.agent, wt.gitdir)
        remote = args.remote or ("origin" if args.push else None)
        fence = Fence.parse(args.fence) if args.fence else None
        if fence is not None:
            check_fence(wt, fence.name, fence.token, remote=remote, agent=name)
        result = run(CommitRequest(paths=tuple(args.paths), cwd=cwd, messages=(message,),
                                   agent=args.agent))  # fmt: skip
        payload = result.to_json()
        if args.push and remote is not None:
            pushed = push_commit(
                wt, result, remote=remote, retries=args.retries, agent=name, fence=fence
            )
            payload["push"] = pushed.to_json()
        return payload

    def body() -> int:
        if not args.loop:
            payload = one(args.message)
            emit(payload, True, "")
            return exit_code_of(payload)
        for k in range(args.loop):
            Path(args.paths[0]).write_text(f"{args.prefix}-{k}\n")
            payload = one(f"{args.message} {k}")
            print(json.dumps(payload), flush=True)
        return 0

    return run_guarded("driver", True, body)


def exit_code_of(payload: dict[str, Any]) -> int:
    from worktree_tools.errors import Outcome

    return exit_code(Outcome(payload["outcome"]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
