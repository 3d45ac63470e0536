"""What validating untrusted state costs: the policy pass of journal verify, and the event log
read with every line's types checked.

  policy  a synthetic history (scripts/bench_journal's builder) with one `.wtjournal` change
          per 1,000 commits: the whole `journal verify`, beside the part of it the "cannot be
          loosened" rule adds (the walk lists those commits in its one pass; each is then
          compared with its parents' configuration).
  events  `git wt log`'s reader over N events (each line parsed and type-checked) beside a
          bare `json.loads` of each line: the cost of validation per line.

Each pair is measured alternately, best of the rounds: quote the ratios.
`run(quick)` returns the section as a dict (the shape of scripts/bench's Section.to_json());
`python scripts/bench_untrusted.py [--quick]` prints it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_journal import build_history


def _best(fn: Any, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _policy_history(repo: Path, every: int) -> int:
    """Add `.wtjournal` changes (each a widening) on top of the history: one per `every`."""
    count = int(
        subprocess.run(
            ["git", "rev-list", "--count", "main"], cwd=repo, capture_output=True, text=True
        ).stdout
    )
    changes = max(count // every, 1)
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@x", "PATH": "/usr/bin:/bin"}  # fmt: skip
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True, env=env)
    text = "[journal]\n\tpath = journal/**\n\tprotect = main\n\tprotect = master\n"
    for i in range(changes):
        text += f"\tpath = extra{i}/**\n"
        (repo / ".wtjournal").write_text(text)
        subprocess.run(["git", "add", ".wtjournal"], cwd=repo, check=True, env=env)
        subprocess.run(["git", "commit", "-qm", f"widen {i}"], cwd=repo, check=True, env=env)
    return changes


def run(quick: bool = False, root: Path | None = None) -> dict[str, Any]:
    from worktree_tools.core import events
    from worktree_tools.journal import policy
    from worktree_tools.journal.config import load
    from worktree_tools.journal.history import walk
    from worktree_tools.journal.verify import open_pygit2, verify

    commits, lines = (5_000, 20_000) if quick else (100_000, 200_000)
    rounds = 2 if quick else 3
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        repo = Path(tmp) / "history"
        build_history(repo, commits, commits // 100)
        changes = _policy_history(repo, 1_000)
        verify_s = _best(lambda: verify(repo, None, use_checkpoint=False), rounds)
        repo_obj = open_pygit2(repo)
        listed = walk(repo_obj, load(repo, "main"), "main", []).config_changes
        assert len(listed) == changes, (len(listed), changes)
        policy_s = _best(lambda: policy.changes(repo, listed), rounds)

        state = Path(tmp) / "state"
        for i in range(200):
            events.append(state, "commit", f"agent{i % 8}", outcome="committed", n=i)
        log = events.log_path(state)
        block = log.read_bytes()
        log.write_bytes(block * (lines // 200))

        def validated() -> int:
            return sum(1 for _ in events.read(state))

        def bare() -> int:
            with open(log, "rb") as fh:
                return sum(1 for line in fh if json.loads(line))

        read_s = _best(validated, rounds)
        bare_s = _best(bare, rounds)
    return {
        "name": "untrusted",
        "title": "Validating untrusted state: policy pass, event log",
        "columns": ["measurement", "seconds"],
        "rows": [
            [f"journal verify, whole history ({commits:,} commits)", f"{verify_s:.3f}"],
            [f"  of which: the policy pass ({changes} .wtjournal changes)", f"{policy_s:.3f}"],
            [f"event log read, {lines:,} lines, every line validated", f"{read_s:.3f}"],
            [f"event log read, {lines:,} lines, bare json.loads", f"{bare_s:.3f}"],
        ],
        "figures": {
            "verify_s": round(verify_s, 3),
            "policy_s": round(policy_s, 3),
            "policy_share": round(policy_s / verify_s, 3) if verify_s else None,
            "events_validated_s": round(read_s, 3),
            "events_bare_s": round(bare_s, 3),
            "events_ratio": round(read_s / bare_s, 3) if bare_s else None,
        },
        "targets": [],
        "notes": [],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    data = run(args.quick)
    for row in data["rows"]:
        print(f"{row[0]:<70} {row[1]}")
    print(json.dumps(data["figures"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
