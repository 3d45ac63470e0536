"""Test-only loop driver: K commits with `--push` from one process (one "machine"), through the
same core function as `wt-commit --push/--fence` (worktree_tools.remote.commit.commit_and_push).
Single commits in the tests run the real `wt-commit --json` CLI (see server.driver).

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
from worktree_tools.core.errors import exit_code


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
        from worktree_tools.commit.request import CommitRequest
        from worktree_tools.remote.commit import RemoteOptions, commit_and_push

        req = CommitRequest(
            paths=tuple(args.paths), cwd=Path.cwd(), messages=(message,), agent=args.agent
        )
        opts = RemoteOptions(
            push=args.push, remote=args.remote, retries=args.retries, fence=args.fence
        )
        result, pushed = commit_and_push(req, opts)
        payload = result.to_json()
        if pushed is not None:
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
    from worktree_tools.core.errors import Outcome

    return exit_code(Outcome(payload["outcome"]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
