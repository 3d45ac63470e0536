"""Task board benchmark: `next` throughput, beside a flock-guarded shared JSON file.

Three fleets drain the same queue (every agent loops: claim the most urgent ready task, mark it
done, until nothing is left), each agent its own process, all started by one signal:

  board, local   16 agents in one repository: worktree_tools.tasks.claiming.next_task + done
                 in process (what `git wt task next` / `done` run), over 200 tasks
  json, flock    16 agents on one JSON file: flock, read, pick, write temp + fsync + rename,
                 unlock (the usual approach; one machine only), over the same 200 tasks
  board, remote  4 clones claiming through one loopback `git daemon` (atomic CAS pushes)

Reported: claims/s (wall clock, start signal to last done), claim latency median and p95, and
double claims (a task claimed by two agents), a correctness gate. Separately, the latency of
the real command `git wt task next` (process start-up included), one agent, no contention.

`run(quick)` returns the section as a dict (Section.to_json()'s shape);
`python scripts/bench_tasks.py [--quick]` prints it.
"""

from __future__ import annotations

import collections
import fcntl
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _benchmain import bench_main, target
from _scratch import GIT_WT, git, hermetic_env, init_repo

LOCAL_AGENTS = 16
CLONES = 4


# ---- the agents (each runs in its own process) ----------------------------------------------


def _wait(start: Path) -> None:
    while not start.exists():
        time.sleep(0.002)


def board_agent(cwd: Path, agent: str, remote: str | None, start: Path) -> None:
    from worktree_tools.core.repo import discover
    from worktree_tools.tasks.claiming import done, next_task
    from worktree_tools.tasks.engine import Ctx
    from worktree_tools.tasks.store import open_store
    from worktree_tools.worktrees.lease import owner_for

    wt = discover(cwd)
    store = open_store(wt, agent, remote=remote)
    owner = owner_for(os.getpid())
    _wait(start)
    while True:
        ctx = Ctx(store, agent, time.monotonic() + 300)
        t0 = time.perf_counter()
        got = next_task(ctx, owner, 600.0).data
        ms = (time.perf_counter() - t0) * 1000
        if got["task_id"] is None:
            break
        print(json.dumps({"task": got["task_id"], "ms": ms}), flush=True)
        done(ctx, got["task_id"], got["token"])


def json_agent(path: Path, agent: str, start: Path) -> None:
    """The usual approach: one JSON file of tasks, every change under an exclusive flock."""
    _wait(start)
    lock = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o666)

    def change(fn: Any) -> Any:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            tasks = json.loads(path.read_text())
            result = fn(tasks)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            with open(tmp, "w") as fh:
                json.dump(tasks, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            return result
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

    def claim(tasks: dict[str, Any]) -> str | None:
        ready = [
            t for t in tasks.values()
            if t["state"] == "open" and all(tasks[d]["state"] == "done" for d in t["deps"])
        ]  # fmt: skip
        if not ready:
            return None
        pick = min(ready, key=lambda t: (t["priority"], t["created"], t["id"]))
        pick.update(state="claimed", assigned_to=agent, token=pick["token"] + 1)
        return str(pick["id"])

    while True:
        t0 = time.perf_counter()
        task_id = change(claim)
        ms = (time.perf_counter() - t0) * 1000
        if task_id is None:
            break
        print(json.dumps({"task": task_id, "ms": ms}), flush=True)
        change(lambda tasks, i=task_id: tasks[i].update(state="done"))


# ---- the fleets -----------------------------------------------------------------------------


def _seed(cwd: Path, count: int) -> None:
    from worktree_tools.core.repo import discover
    from worktree_tools.tasks.edits import NewTask, add
    from worktree_tools.tasks.engine import Ctx
    from worktree_tools.tasks.store import open_store

    wt = discover(cwd)
    specs = [NewTask(f"task {i}", f"T{i:04d}", i % 3) for i in range(count)]
    add(Ctx(open_store(wt, "seeder"), "seeder", time.monotonic() + 120), specs)


def _fleet(argvs: list[list[str]], cwds: list[Path], start: Path, env: dict[str, str]) -> Any:
    procs = [
        subprocess.Popen([sys.executable, __file__, *argv], cwd=cwd, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for argv, cwd in zip(argvs, cwds, strict=True)
    ]  # fmt: skip
    time.sleep(1.0)  # let every agent import and reach its start line
    t0 = time.perf_counter()
    start.touch()
    outs = [p.communicate(timeout=1800) for p in procs]
    wall = time.perf_counter() - t0
    rows = [json.loads(x) for out, _ in outs for x in out.splitlines() if x.strip()]
    errors = [err.strip()[-300:] for p, (_, err) in zip(procs, outs, strict=True) if p.returncode]
    return _figures(rows, wall, errors)


def _figures(rows: list[dict[str, Any]], wall: float, errors: list[str]) -> dict[str, Any]:
    counts = collections.Counter(r["task"] for r in rows)
    ms = sorted(r["ms"] for r in rows) or [0.0]
    return {
        "claims": len(rows),
        "distinct": len(counts),
        "double_claims": sum(n - 1 for n in counts.values()),
        "wall_s": wall,
        "claims_per_s": len(rows) / wall if wall else 0.0,
        "latency_ms_median": statistics.median(ms),
        "latency_ms_p95": ms[min(len(ms) - 1, int(len(ms) * 0.95))],
        "errors": errors,
    }


def _cli_latency(root: Path, env: dict[str, str], rounds: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (the command and every git it starts) of `git wt task next`, in ms."""
    repo = init_repo(root / "cli", {"README": "bench\n"}, env)
    _seed_in(repo, env, 200)
    out, cpu = [], []
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([GIT_WT, "task", "next", "--agent", "solo", "--json"], cwd=repo,
                              env=env, capture_output=True, text=True)  # fmt: skip
        out.append((time.perf_counter() - t0) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        cpu.append(used * 1000)
        data = json.loads(proc.stdout)
        subprocess.run([GIT_WT, "task", "done", data["task_id"], "--token", str(data["token"]),
                        "--agent", "solo"], cwd=repo, env=env, capture_output=True)  # fmt: skip
    return out, cpu


def _seed_in(cwd: Path, env: dict[str, str], count: int) -> None:
    subprocess.run([sys.executable, __file__, "--seed", str(count)], cwd=cwd, env=env, check=True)


def run(quick: bool) -> dict[str, Any]:
    from bench_remote import git_daemon

    tasks = 32 if quick else 200
    remote_tasks = 8 if quick else 40
    root = Path(tempfile.mkdtemp(prefix="wt-bench-tasks-"))
    try:
        env = hermetic_env(root / "home")
        # Board, local.
        repo = init_repo(root / "local", {"README": "bench\n"}, env)
        _seed_in(repo, env, tasks)
        start = root / "go-local"
        argvs = [["--board", f"a{i:02d}", "-", os.fspath(start)] for i in range(LOCAL_AGENTS)]
        local = _fleet(argvs, [repo] * LOCAL_AGENTS, start, env)
        # JSON + flock, the same queue.
        jpath = root / "tasks.json"
        jpath.write_text(json.dumps({
            f"T{i:04d}": {"id": f"T{i:04d}", "priority": i % 3, "created": i, "deps": [],
                          "state": "open", "assigned_to": None, "token": 0}
            for i in range(tasks)
        }))  # fmt: skip
        start = root / "go-json"
        argvs = [["--json-agent", os.fspath(jpath), f"a{i:02d}", os.fspath(start)]
                 for i in range(LOCAL_AGENTS)]  # fmt: skip
        flock = _fleet(argvs, [root] * LOCAL_AGENTS, start, env)
        # Board, remote: 4 clones of one loopback server.
        (root / "srv").mkdir()
        seed = init_repo(root / "seed", {"README": "bench\n"}, env)
        _seed_in(seed, env, remote_tasks)
        bare = root / "srv" / "board.git"
        git(root, "init", "-q", "--bare", os.fspath(bare), env=env)
        git(seed, "push", "-q", os.fspath(bare), "main", "wt/tasks", env=env)
        with git_daemon(root / "srv", env) as port:
            url = f"git://127.0.0.1:{port}/board.git"
            clones = []
            for i in range(CLONES):
                dest = root / f"m{i}"
                git(root, "clone", "-q", url, os.fspath(dest), env=env)
                clones.append(dest)
            start = root / "go-remote"
            argvs = [["--board", f"m{i}", "origin", os.fspath(start)] for i in range(CLONES)]
            remote = _fleet(argvs, clones, start, env)
        cli, cli_cpu = _cli_latency(root, env, 3 if quick else 15)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    cli_median = statistics.median(cli)
    fleets = [
        (f"board, local ({LOCAL_AGENTS} agents, {tasks} tasks)", local),
        (f"JSON file + flock ({LOCAL_AGENTS} agents, {tasks} tasks)", flock),
        (f"board, remote ({CLONES} clones, {remote_tasks} tasks)", remote),
    ]
    rows = [
        [name, f"{f['distinct']}", str(f["double_claims"]), f"{f['wall_s']:.2f}",
         f"{f['claims_per_s']:.1f}", f"{f['latency_ms_median']:.0f}",
         f"{f['latency_ms_p95']:.0f}", str(len(f["errors"]))]
        for name, f in fleets
    ]  # fmt: skip
    rows.append(["`git wt task next` CLI, 1 agent, no contention", str(len(cli)), "-", "-", "-",
                 f"{cli_median:.0f}", f"{max(cli):.0f}", "0"])  # fmt: skip
    figures = {
        "local": _clean(local), "json_flock": _clean(flock), "remote": _clean(remote),
        "cli_next_ms": [round(x, 1) for x in cli], "cli_next_ms_median": round(cli_median, 1),
        "cli_next_cpu_ms_median": round(statistics.median(cli_cpu), 1),
        "local_vs_json_claims_per_s": round(local["claims_per_s"] / flock["claims_per_s"], 4),
        "tasks": tasks, "remote_tasks": remote_tasks,
    }  # fmt: skip
    doubles = local["double_claims"] + flock["double_claims"] + remote["double_claims"]
    missing = (tasks - local["distinct"]) + (remote_tasks - remote["distinct"])
    errors = len(local["errors"]) + len(remote["errors"]) + len(flock["errors"])
    targets = [
        target("double claims, every fleet", doubles, "", "==", 0, gate=True),
        target("tasks never claimed (board fleets)", missing, "", "==", 0, gate=True),
        target("agent processes that failed", errors, "", "==", 0, gate=True),
        target(
            "local claim latency, median (in process, 16 agents)",
            local["latency_ms_median"],
            "ms",
            "<",
            150,
        ),
        target("`git wt task next` latency, median (CLI)", cli_median, "ms", "<", 150),
        target(
            "board / JSON+flock claims per second (local)",
            figures["local_vs_json_claims_per_s"],
            "x",
        ),
    ]
    return {
        "name": "tasks",
        "title": "Task board: `next` throughput beside a flock-guarded JSON file",
        "columns": [
            "fleet",
            "claimed",
            "double",
            "wall s",
            "claims/s",
            "latency ms med",
            "p95 ms",
            "failed",
        ],
        "rows": rows,
        "figures": figures,
        "targets": targets,
        "notes": [
            "Each agent is its own process, looping claim-then-done until the queue is empty; "
            "the board agents call the core of `git wt task next`/`done` in process, so "
            "process start-up is measured once, separately (the CLI row).",
            "A claim on the board is a commit on the board branch plus a claim ref, moved "
            "together by one compare-and-swap; the JSON file is one machine's file under "
            "flock, without history, fencing tokens or a remote.",
            "Latency of a contended claim includes waiting for the other agents' turns.",
            f"`git wt task next` CLI: CPU per command (its own and its git processes'), "
            f"median {statistics.median(cli_cpu):.0f} ms; on a loaded machine the wall time is "
            "mostly waiting for a CPU.",
            f"The machine has {os.cpu_count()} CPUs shared by every agent and git process.",
        ],
    }


def _clean(f: dict[str, Any]) -> dict[str, Any]:
    out = {k: round(v, 3) if isinstance(v, float) else v for k, v in f.items() if k != "errors"}
    out["error_samples"] = f["errors"][:3]
    return out


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["--board"]:
        board_agent(Path.cwd(), argv[1], None if argv[2] == "-" else argv[2], Path(argv[3]))
        return 0
    if argv[:1] == ["--json-agent"]:
        json_agent(Path(argv[1]), argv[2], Path(argv[3]))
        return 0
    if argv[:1] == ["--seed"]:
        _seed(Path.cwd(), int(argv[1]))
        return 0
    return bench_main("bench_tasks", __doc__, run, argv, quick="32 local and 8 remote tasks")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
