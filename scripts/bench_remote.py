"""Remote benchmark: N machines commit and push to one git server on the loopback interface.

For 2, 4 and 8 simulated machines (each its own clone, each one process), every machine makes
K commits of its own file (`--quick`: 3, else 10) and pushes each one as `wt-commit --push`
does (worktree_tools.commit.run.run, then worktree_tools.remote.push.push_commit, in-process, so
process start-up does not hide the protocol). The server is `git daemon` on 127.0.0.1 with
receive-pack enabled and non-fast-forwards denied.

Reported per fleet size: commits per second (all machines together, wall clock from the start
signal to the last push), retries per commit (pushes refused because another machine got there
first, each followed by a fetch and a replay), and correctness gates: every commit on the server
exactly once, history linear, no failure.

`run(quick)` returns the section as a dict (the shape of scripts/bench's Section.to_json());
`python scripts/bench_remote.py [--quick] [--json FILE]` prints it as a table.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _benchmain import bench_main, target
from _scratch import git, hermetic_env, init_repo

FLEETS = (2, 4, 8)
RETRIES = 100  # per commit: enough that contention never turns into a failure
LIFETIME_SECONDS = 1800  # the daemon stops on its own after this, whatever happens to us


@contextmanager
def git_daemon(base: Path, env: dict[str, str]) -> Iterator[int]:
    """`git daemon` serving `base` on 127.0.0.1 at a free port; yields the port."""
    for _ in range(5):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        proc = subprocess.Popen(
            ["timeout", "-s", "TERM", str(LIFETIME_SECONDS), "git", "daemon", "--reuseaddr",
             "--listen=127.0.0.1", f"--port={port}", f"--base-path={base}", "--export-all",
             "--enable=receive-pack", "--max-connections=64", os.fspath(base)],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(200):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                break
            time.sleep(0.025)
        else:
            proc.kill()
            proc.wait()
            continue
        if proc.poll() is None:
            break
    else:
        raise RuntimeError("bench_remote: git daemon did not start")
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def machine(clone: Path, name: str, commits: int, start_file: Path) -> None:
    """One machine (run in its own process): wait for the start file, then commit and push."""
    from worktree_tools.commit.request import CommitRequest
    from worktree_tools.commit.run import run
    from worktree_tools.core.repo import discover
    from worktree_tools.remote.push import push_commit

    for _ in range(6000):
        if start_file.exists():
            break
        time.sleep(0.005)
    wt = discover(clone)
    for k in range(commits):
        rel = f"{name}.txt"
        (clone / rel).write_text(f"{name} {k}\n")
        start = time.perf_counter()
        row: dict[str, Any] = {"name": name, "k": k}
        try:
            result = run(CommitRequest(paths=(rel,), cwd=clone, messages=(f"{name} {k}",),
                                       agent=name))  # fmt: skip
            pushed = push_commit(wt, result, remote="origin", retries=RETRIES, agent=name)
            row.update(ok=True, retries=pushed.retries, replays=pushed.replays)
        except Exception as exc:  # report, do not stop the fleet
            row.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        row["ms"] = (time.perf_counter() - start) * 1000
        print(json.dumps(row), flush=True)


def _fleet(
    root: Path, port: int, machines: int, commits: int, env: dict[str, str]
) -> dict[str, Any]:
    name = f"fleet{machines}.git"
    seed = init_repo(root / f"seed{machines}", {"README": "bench\n"}, env)
    bare = root / "srv" / name
    git(root, "init", "-q", "--bare", "--initial-branch=main", os.fspath(bare), env=env)
    git(bare, "config", "receive.denyNonFastForwards", "true", env=env)
    git(seed, "push", "-q", os.fspath(bare), "main", env=env)
    url = f"git://127.0.0.1:{port}/{name}"
    clones = []
    for i in range(machines):
        dest = root / f"f{machines}-m{i}"
        git(root, "clone", "-q", url, os.fspath(dest), env=env)
        clones.append(dest)
    base = git(seed, "rev-parse", "main", env=env).strip()
    start_file = root / f"start{machines}"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--machine",
                os.fspath(c),
                f"m{i}",
                str(commits),
                os.fspath(start_file),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, c in enumerate(clones)
    ]
    time.sleep(0.5)  # let every machine import and reach its start line
    start = time.perf_counter()
    start_file.touch()
    outs = [p.communicate(timeout=1200) for p in procs]
    wall = time.perf_counter() - start
    rows = [json.loads(line) for out, _ in outs for line in out.splitlines() if line.strip()]
    failures = [r["error"] for r in rows if not r["ok"]]
    failures += [
        err.strip()[-300:] for p, (_, err) in zip(procs, outs, strict=True) if p.returncode
    ]
    good = [r for r in rows if r["ok"]]
    tip = git(bare, "rev-parse", "main", env=env).strip()
    subjects = git(bare, "log", "--format=%s", f"{base}..{tip}", env=env).splitlines()
    expected = sorted(f"m{i} {k}" for i in range(machines) for k in range(commits))
    merges = git(bare, "rev-list", "--min-parents=2", f"{base}..{tip}", env=env).split()
    return {
        "machines": machines,
        "commits": len(good),
        "wall_s": wall,
        "commits_per_s": len(good) / wall if wall else 0.0,
        "retries_per_commit": statistics.fmean(r["retries"] for r in good) if good else 0.0,
        "max_retries": max((r["retries"] for r in good), default=0),
        "latency_ms_median": statistics.median(r["ms"] for r in good) if good else 0.0,
        "failures": failures,
        "missing_or_duplicated": 0 if sorted(subjects) == expected else 1,
        "merges": len(merges),
    }


def run(quick: bool) -> dict[str, Any]:
    """Run the three fleets against one loopback server; the section as a dict."""
    commits = 3 if quick else 10
    root = Path(tempfile.mkdtemp(prefix="wt-bench-remote-"))
    try:
        env = hermetic_env(root / "home")
        (root / "srv").mkdir()
        with git_daemon(root / "srv", env) as port:
            fleets = [_fleet(root, port, n, commits, env) for n in FLEETS]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rows = [
        [str(f["machines"]), f"{f['commits']}/{f['machines'] * commits}", f"{f['wall_s']:.2f}",
         f"{f['commits_per_s']:.2f}", f"{f['retries_per_commit']:.2f}", str(f["max_retries"]),
         f"{f['latency_ms_median']:.0f}", str(len(f["failures"]))]
        for f in fleets
    ]  # fmt: skip
    figures: dict[str, Any] = {"commits_per_machine": commits}
    for f in fleets:
        figures[f"machines_{f['machines']}"] = {
            k: (round(v, 3) if isinstance(v, float) else v) for k, v in f.items() if k != "failures"
        } | {"failure_samples": f["failures"][:3]}
    failures = sum(len(f["failures"]) for f in fleets)
    broken = sum(f["missing_or_duplicated"] for f in fleets)
    merges = sum(f["merges"] for f in fleets)
    targets = [
        target(f"commits/s, {f['machines']} machines", f["commits_per_s"], "/s", "<=", None)
        for f in fleets
    ] + [
        target(
            f"retries per commit, {f['machines']} machines", f["retries_per_commit"], "", "<=", None
        )
        for f in fleets
    ]
    targets += [
        target("failed commits or pushes", failures, "", "==", 0, gate=True),
        target(
            "fleets with a commit missing or duplicated on the server",
            broken,
            "",
            "==",
            0,
            gate=True,
        ),
        target(
            "merge commits on the server (history must stay linear)", merges, "", "==", 0, gate=True
        ),
    ]
    return {
        "name": "remote",
        "title": f"Remote: 2, 4 and 8 machines x {commits} commits, pushing to one loopback "
        "git daemon",
        "columns": [
            "machines",
            "committed",
            "wall s",
            "commits/s",
            "retries/commit",
            "max retries",
            "latency ms med",
            "failed",
        ],
        "rows": rows,
        "figures": figures,
        "targets": targets,
        "notes": [
            "Each machine is a clone in its own process; each commit is wt-commit's core "
            "followed by push_commit (what `wt-commit --push` runs), all machines started "
            "together by one signal; distinct files, so every refused push is replayed.",
            "A retry is a push the server refused because another machine's push landed first "
            "(followed by a fetch of the new tip, a replay, and a jittered backoff).",
            "The server denies non-fast-forwards: a force push would have failed the run.",
            f"The machine has {os.cpu_count()} CPUs; the server, the git processes and all "
            "the machines share them, so commits/s falls as machines are added.",
        ],
    }


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["--machine"]:
        machine(Path(argv[1]), argv[2], int(argv[3]), Path(argv[4]))
        return 0
    return bench_main(
        "bench_remote", __doc__, run, argv, quick="3 commits per machine (smoke test)"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
