"""Test-only agent loop: one process is one agent, calling the same core functions as
`git wt task next` and `git wt task done` (in process, so that 16 agents over 200 tasks fit in a
test run). Prints one JSON line per claim it made and per task it finished.

    python driver.py --agent A [--remote R] [--ttl S] [--max N] [--start FILE]

With --start it waits for FILE to exist first (all agents start together).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--remote")
    ap.add_argument("--ttl", type=float, default=600.0)
    ap.add_argument("--max", type=int, default=10**6)
    ap.add_argument("--start")
    args = ap.parse_args(argv)

    from worktree_tools.core.repo import discover
    from worktree_tools.tasks.claiming import done, next_task
    from worktree_tools.tasks.engine import Ctx
    from worktree_tools.tasks.store import open_store
    from worktree_tools.worktrees.lease import owner_for

    if args.start:
        while not os.path.exists(args.start):
            time.sleep(0.01)
    wt = discover(Path.cwd())
    store = open_store(wt, args.agent, remote=args.remote)
    owner = owner_for(os.getpid())
    for _ in range(args.max):
        ctx = Ctx(store, args.agent, time.monotonic() + 120)
        got = next_task(ctx, owner, args.ttl).data
        if got["task_id"] is None:
            break
        print(json.dumps({"claimed": got["task_id"], "token": got["token"],
                          "action": got["action"]}), flush=True)  # fmt: skip
        done(ctx, got["task_id"], got["token"])
        print(json.dumps({"done": got["task_id"]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
