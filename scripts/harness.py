"""Fault-injection harness: a fleet of agents sharing one repository while processes are killed.

  scripts/harness [--agents 16] [--ops 50] [--kill-rate 0.12] [--seed 1] [--json FILE]

Each agent is a process (scripts/harness_worker.py) that allocates its own worktree with
`git wt alloc`, then commits new files through wt-commit, appends to the journal, leaves
uncommitted edits and heartbeats, and finally releases its worktree (as done or handoff).
Meanwhile the harness:

  - kills processes with SIGKILL, each with the probability --kill-rate: the agents' tool runs
    (retries included), at a named point of wt-commit (`WT_FAULT` staged, built, locked =
    holding the repository lock, index-synced, landed), in the middle of the pre-commit hook,
    or at a random moment; allocs (also right after `git worktree add`); the agents themselves
    (their lease becomes owner_dead); gc runs (at a random moment, or after a rescue / a
    removal) and doctor --fix runs;
  - runs `git wt gc` and `git wt doctor --fix` in a loop, and `git wt watch` throughout;
  - leaves stale `index.lock` files (old, no holder) in agents' worktrees and the main one;
  - corrupts a state record (an agent's owner.json, restored after a while as a person would),
    the repository lock's holder record, and tears a line of the event log.

At the end (after a last gc and doctor --fix) it checks and prints: every change reported
committed is in the branches' history exactly once; every change written but not committed is
in the history (it landed before its committer died), still in its worktree, or in a rescue ref;
`git fsck` is clean; no lock is left (no git lock file, no worktree-tools flock held); every
branch verifies against the journal rules. Exit 1 on any failure, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import harness_check as check
from _scratch import GIT_WT, PYTHON, git, hermetic_env, init_repo

WORKER = os.fspath(Path(__file__).resolve().parent / "harness_worker.py")
OP_WEIGHTS = {"commit": 55, "journal": 20, "edit": 15, "heartbeat": 10}
GC_KILLS = ("random", "wt-gc-rescued", "wt-gc-removed")


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="scripts/harness", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--agents", type=int, default=16, help="agent processes (default 16)")
    ap.add_argument("--ops", type=int, default=50, help="operations per agent (default 50)")
    ap.add_argument(
        "--kill-rate",
        type=float,
        default=0.12,
        help="probability that each process is killed (default 0.12: about 10%% of all\n"
        "processes die, since a fault point that a run never reaches kills nothing)",
    )
    ap.add_argument("--seed", type=int, default=1, help="random seed (the plan; timing varies)")
    ap.add_argument("--hook-seconds", type=float, default=0.05, help="pre-commit hook duration")
    ap.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument(
        "--sabotage",
        choices=["drop-branch", "leave-lock"],
        help="(to test the checker) lose a branch's commits or leave a git lock before checking",
    )
    args = ap.parse_args(argv)
    if args.agents < 1 or args.ops < 1 or not 0 <= args.kill_rate <= 1:
        ap.error("--agents and --ops must be at least 1, --kill-rate within 0..1")
    return args


# ---------------------------------------------------------------------------------------------
# The plan: every agent's operations and which of them are killed, from the seed


def make_plan(args: argparse.Namespace) -> tuple[list[list[dict[str, Any]]], dict[int, int]]:
    rng = random.Random(args.seed)
    kinds, weights = zip(*OP_WEIGHTS.items(), strict=True)
    plans: list[list[dict[str, Any]]] = []
    for i in range(args.agents):
        ops = []
        for k in range(args.ops):
            kind = rng.choices(kinds, weights)[0]
            kill = None
            if kind != "edit" and rng.random() < args.kill_rate:
                methods = ["random"] if kind == "heartbeat" else ["random", "mid-hook"]
                methods += ["staged", "built", "locked", "index-synced", "landed"] * (
                    kind != "heartbeat"
                )
                kill = rng.choice(methods)
            token = f"tok-{args.seed}-{i}-{k}-{rng.getrandbits(32):08x}"
            ops.append({"kind": kind, "kill": kill, "token": token})
        plans.append(ops)
    doomed = round(args.agents * args.kill_rate)
    if args.kill_rate > 0 and args.agents > 1:
        doomed = max(1, doomed)
    victims = rng.sample(range(args.agents), min(doomed, args.agents))
    return plans, {i: rng.randrange(args.ops) for i in victims}


# ---------------------------------------------------------------------------------------------
# The run


class Run:
    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.root = root
        self.rng = random.Random(f"{args.seed}-harness")
        self.env = hermetic_env(root / "home")
        self.env["PRE_COMMIT_HOME"] = os.fspath(root / "home" / "pre-commit")
        self.env["WT_LOCK_TIMEOUT"] = "15"
        self.repo = init_repo(root / "repo", {"README": "harness\n"}, self.env)
        self.common = self.repo / ".git"
        hook = self.common / "hooks" / "pre-commit"
        hook.write_text(
            '#!/bin/sh\n[ -n "$HARNESS_HOOK_MARK" ] && : > "$HARNESS_HOOK_MARK"\n'
            f"sleep {args.hook_seconds}\nexit 0\n"
        )
        hook.chmod(0o755)
        self.run_dir = root / "run"
        (self.run_dir / "ledgers").mkdir(parents=True)
        (self.run_dir / "marks").mkdir()
        self.plans, self.doomed = make_plan(args)
        (self.run_dir / "config.json").write_text(
            json.dumps(
                {
                    "repo": os.fspath(self.repo),
                    "seed": args.seed,
                    "kill_rate": args.kill_rate,
                    "plans": self.plans,
                }
            )
        )
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.figures: Counter[str] = Counter()
        self.gc_exits: Counter[str] = Counter()
        self.doctor_exits: Counter[str] = Counter()
        self.faults: list[str] = []
        self.workers: list[subprocess.Popen[bytes]] = []

    def count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.figures[key] += n

    def tool(self, *argv: str, fault: str | None = None, kill_after: float | None = None) -> int:
        env = dict(self.env)
        if fault:
            env["WT_FAULT"] = fault
        with open(self.run_dir / "tools.log", "ab") as log:  # the child keeps a copy
            log.write(f"$ git-wt {' '.join(argv)} (fault {fault}, kill {kill_after})\n".encode())
            log.flush()
            proc = subprocess.Popen([GIT_WT, *argv], cwd=self.repo, env=env, stdout=log, stderr=log)
        self.count("harness_tool_runs")
        if kill_after is not None:
            try:
                proc.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
        rc = proc.wait()
        if rc == -signal.SIGKILL:
            self.count(f"killed[{argv[0]} {fault or 'random'}]")
        return rc

    # ---- concurrent loops --------------------------------------------------------------

    def janitor(self) -> None:
        """gc and doctor --fix, over and over, some gc runs killed."""
        while not self.stop.is_set():
            fault = kill_after = None
            if self.rng.random() < self.args.kill_rate:
                how = self.rng.choice(GC_KILLS)
                if how == "random":
                    kill_after = self.rng.uniform(0.0, 1.0)
                else:
                    fault = how
            rc = self.tool("gc", "--json", fault=fault, kill_after=kill_after)
            self.gc_exits[str(rc)] += 1
            kill_after = None
            if self.rng.random() < self.args.kill_rate:
                kill_after = self.rng.uniform(0.0, 1.0)
            rc = self.tool("doctor", "--fix", "--json", kill_after=kill_after)
            self.doctor_exits[str(rc)] += 1
            self.stop.wait(0.3)

    def progress(self) -> int:
        total = 0
        for path in (self.run_dir / "ledgers").glob("*.jsonl"):
            total += path.read_bytes().count(b'"ev": "op"')
        return total

    def wait_progress(self, share: float) -> bool:
        goal = share * self.args.agents * self.args.ops
        while not self.stop.is_set():
            if self.progress() >= goal:
                return True
            self.stop.wait(0.2)
        return False

    def chaos(self) -> None:
        """Stale index.lock files, a corrupt owner record, a garbled holder record, a torn log
        line, at set points of the fleet's progress."""
        if not self.wait_progress(0.25):
            return
        self.stale_index_lock(self.common)
        self.stale_index_lock(self.agent_gitdir())
        if not self.wait_progress(0.4):
            return
        self.corrupt_record()
        (self.common / "wt" / "repo.lock.json").write_text("{garbled")
        self.faults.append("garbled the repository lock's holder record")
        with open(self.common / "wt" / "events.jsonl", "a") as fh:
            fh.write('{"ts": "torn line, as a crash mid-write would leave')
        self.faults.append("tore a line of the event log (no newline)")
        if self.wait_progress(0.6):
            self.stale_index_lock(self.agent_gitdir())

    def agent_gitdir(self) -> Path | None:
        admin = self.common / "worktrees"
        dirs = sorted(admin.glob("agent-*")) if admin.is_dir() else []
        return self.rng.choice(dirs) if dirs else None

    def stale_index_lock(self, gitdir: Path | None) -> None:
        if gitdir is None:
            return
        lock = gitdir / "index.lock"
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except (FileExistsError, FileNotFoundError):
            return
        os.close(fd)
        old = time.time() - 60
        os.utime(lock, (old, old))
        self.count("stale_index_locks_left")
        self.faults.append(f"left a stale index.lock in {gitdir.name}")

    def corrupt_record(self) -> None:
        records = sorted((self.common / "wt" / "worktrees").glob("agent-*/owner.json"))
        if not records:
            return
        record = self.rng.choice(records)
        good = record.read_bytes()
        garbage = good[: len(good) // 2]
        record.write_bytes(garbage)
        self.faults.append(f"corrupted {record.parent.name}/owner.json for 3 s")
        self.stop.wait(3.0)
        # A person repairs it: put back what was there (unless a tool rewrote it meanwhile).
        if record.exists() and record.read_bytes() == garbage:
            record.write_bytes(good)
            self.count("corrupt_records_restored")

    def assassin(self, index: int, at_op: int) -> None:
        """Kill agent `index` (the owner process of its worktree) once it reaches `at_op`."""
        ledger = self.run_dir / "ledgers" / f"agent-{index}.jsonl"
        needle = f'"ev": "op", "op": {at_op},'.encode()
        proc = self.workers[index]
        while proc.poll() is None:
            if ledger.exists() and needle in ledger.read_bytes():
                time.sleep(self.rng.uniform(0.0, 0.3))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    self.count("killed[agent]")
                proc.wait()  # reap it now: until then it is a zombie, which counts as alive
                return
            time.sleep(0.01)

    # ---- the whole run -------------------------------------------------------------------

    def fleet(self) -> float:
        watch_log = open(self.run_dir / "watch.jsonl", "wb")  # noqa: SIM115 - closed below
        watch = subprocess.Popen(
            [GIT_WT, "watch", "--json", "--interval", "1", "--no-journal"],
            cwd=self.repo, env=self.env, stdout=watch_log, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        started = time.monotonic()
        for i in range(self.args.agents):
            self.workers.append(self.spawn_agent(i))
        threads = [
            threading.Thread(target=self.janitor),
            threading.Thread(target=self.chaos),
            *(threading.Thread(target=self.assassin, args=a) for a in self.doomed.items()),
        ]
        for t in threads:
            t.start()
        for w in self.workers:
            w.wait()
        wall = time.monotonic() - started
        self.stop.set()
        for t in threads:
            t.join()
        watch.send_signal(signal.SIGTERM)
        watch.wait()
        watch_log.close()
        self.wait_for_strays()
        return wall

    def spawn_agent(self, i: int) -> subprocess.Popen[bytes]:
        with open(self.run_dir / f"agent-{i}.err", "wb") as errors:  # the child keeps a copy
            return subprocess.Popen(
                [PYTHON, WORKER, os.fspath(self.run_dir), str(i)],
                cwd=self.root,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )

    def wait_for_strays(self, limit: float = 60.0) -> None:
        """Tools started by killed agents run on as orphans: let them finish first."""
        import psutil

        prefix = os.fspath(self.root) + "/"
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            strays = []
            for proc in psutil.process_iter(["pid", "cwd"]):
                cwd = proc.info.get("cwd") or ""
                if proc.pid != os.getpid() and (cwd + "/").startswith(prefix):
                    strays.append(proc.pid)
            if not strays:
                return
            time.sleep(0.2)
        self.count("stray_processes_at_end", len(strays))

    def finish(self) -> dict[str, Any]:
        """A last gc (until it has nothing left to skip) and doctor --fix, then the state."""
        final_gc = []
        for _ in range(10):
            rc = self.tool("gc", "--json")
            final_gc.append(rc)
            if rc == 0:
                break
            time.sleep(1.0)
        doctor_rc = self.tool("doctor", "--fix", "--json")
        res = subprocess.run(
            [GIT_WT, "watch", "--once", "--json"], cwd=self.repo, env=self.env,
            capture_output=True, text=True,
        )  # fmt: skip
        try:
            findings = json.loads(res.stdout).get("findings", [])
        except ValueError:
            findings = [{"kind": "unreadable", "detail": res.stdout[-300:]}]
        return {
            "final_gc_exits": final_gc,
            "final_doctor_exit": doctor_rc,
            "final_watch_exit": res.returncode,
            "final_watch_findings": [f"{f.get('kind')}: {f.get('subject')}" for f in findings],
        }

    def sabotage(self, how: str, ledgers: check.Ledgers) -> None:
        if how == "leave-lock":
            (self.common / "index.lock").write_bytes(b"")
            return
        by_agent = Counter(ledgers.written[t]["agent"] for t in ledgers.reported)
        agent = by_agent.most_common(1)[0][0]
        git(self.repo, "update-ref", "-d", f"refs/heads/wt/{agent}", env=self.env)

    def watch_figures(self) -> dict[str, Any]:
        events = []
        for raw in (self.run_dir / "watch.jsonl").read_bytes().splitlines():
            try:
                events.append(json.loads(raw))
            except ValueError:
                continue
        raised = Counter(e["kind"] for e in events if e.get("change") == "raised")
        dead_seen = {e["subject"] for e in events if e.get("kind") == "owner_dead"}
        victims = {f"agent-{i}" for i in self.doomed}
        return {
            "watch_events": len(events),
            "watch_raised_by_kind": dict(sorted(raised.items())),
            "killed_owners": sorted(victims),
            "killed_owners_seen_dead_by_watch": sorted(victims & dead_seen),
        }


def execute(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    run = Run(args, root)
    wall = run.fleet()
    final = run.finish()
    ledgers = check.read_ledgers(run.run_dir / "ledgers")
    if args.sabotage:
        run.sabotage(args.sabotage, ledgers)
    losses = check.check_changes(run.repo, ledgers, run.env)
    git_locks, held = check.locks_left(run.common)
    fsck_ok, fsck_text = check.fsck(run.repo, run.env)
    journal_bad = check.journal_verify(run.repo, GIT_WT, run.env)
    killed = Counter(ledgers.killed)
    for key, n in run.figures.items():
        if key.startswith("killed["):
            killed[key[7:-1]] += n
    tool_runs = ledgers.spawned + run.figures["harness_tool_runs"]
    processes = tool_runs + args.agents
    killed_total = sum(killed.values())
    failures = []
    if losses.lost:
        failures.append(f"{len(losses.lost)} change(s) lost")
    if losses.duplicated:
        failures.append(f"{len(losses.duplicated)} change(s) in history more than once")
    if git_locks or held:
        failures.append(f"{len(git_locks) + len(held)} lock(s) left")
    if not fsck_ok:
        failures.append("git fsck is not clean")
    if journal_bad:
        failures.append(f"journal verify failed on {', '.join(sorted(journal_bad))}")
    return {
        "agents": args.agents,
        "ops_per_agent": args.ops,
        "kill_rate": args.kill_rate,
        "seed": args.seed,
        "wall_s": round(wall, 1),
        "processes": processes,
        "processes_killed": killed_total,
        "killed_share": round(killed_total / processes, 3) if processes else 0.0,
        "killed_by_method": dict(sorted(killed.items())),
        "agents_finished": len(ledgers.finished),
        "changes_checked": losses.checked,
        "reported_committed": losses.reported_committed,
        "landed_unreported": losses.landed_unreported,
        "uncommitted_in_worktree": losses.in_worktree,
        "uncommitted_in_rescue_ref": losses.in_rescue,
        "rescue_refs": losses.rescue_refs,
        "lost": len(losses.lost),
        "duplicated": len(losses.duplicated),
        "lost_samples": losses.lost[:10],
        "duplicated_samples": losses.duplicated[:10],
        "git_locks_left": git_locks,
        "flocks_held": held,
        "locks_left": len(git_locks) + len(held),
        "fsck_clean": fsck_ok,
        "fsck_output": fsck_text,
        "journal_verified": not journal_bad,
        "journal_failures": journal_bad,
        "gc_exits_during_run": dict(sorted(run.gc_exits.items())),
        "doctor_exits_during_run": dict(sorted(run.doctor_exits.items())),
        "faults_injected": run.faults,
        "torn_ledger_lines": ledgers.torn_lines,
        "stray_processes_at_end": run.figures["stray_processes_at_end"],
        **final,
        **run.watch_figures(),
        "failures": failures,
        "sabotage": args.sabotage,
    }


def render(report: dict[str, Any]) -> str:
    r = report
    lines = [
        f"command: {r['command']}",
        f"machine: {r['machine_text']}",
        f"fleet:   {r['agents']} agents x {r['ops_per_agent']} operations, seed {r['seed']}, "
        f"{r['wall_s']}s",
        f"killed:  {r['processes_killed']} of {r['processes']} processes "
        f"({100 * r['killed_share']:.1f}%): "
        + ", ".join(f"{k} {v}" for k, v in r["killed_by_method"].items()),
        f"faults:  {'; '.join(r['faults_injected']) or 'none'}",
        f"gc during the run (exit code: runs): {r['gc_exits_during_run']}; "
        f"doctor --fix: {r['doctor_exits_during_run']}",
        f"changes: {r['changes_checked']} written; {r['reported_committed']} reported committed; "
        f"{r['landed_unreported']} landed but unreported (committer killed); "
        f"{r['uncommitted_in_worktree']} uncommitted in their worktree; "
        f"{r['uncommitted_in_rescue_ref']} in a rescue ref ({r['rescue_refs']} refs)",
        f"watch:   {r['watch_events']} events {r['watch_raised_by_kind']}; killed owners seen "
        f"dead: {len(r['killed_owners_seen_dead_by_watch'])} of {len(r['killed_owners'])}; "
        f"after cleanup: exit {r['final_watch_exit']} {r['final_watch_findings']}",
        "",
        _check("every change reported committed is in history exactly once",
               r["lost"] == 0 and r["duplicated"] == 0,
               f"lost {r['lost']}, duplicated {r['duplicated']}"),
        _check("every uncommitted change is in its worktree or a rescue ref", r["lost"] == 0,
               f"lost {r['lost']}"),
        _check("git fsck is clean", r["fsck_clean"], r["fsck_output"][:200]),
        _check("no lock is left held", r["locks_left"] == 0,
               ", ".join(r["git_locks_left"] + r["flocks_held"])),
        _check("the journal verifies on every branch", r["journal_verified"],
               ", ".join(r["journal_failures"])),
    ]  # fmt: skip
    lines += [f"  {s}" for s in r["lost_samples"] + r["duplicated_samples"]]
    verdict = "FAILED: " + "; ".join(r["failures"]) if r["failures"] else "OK: nothing lost"
    lines += ["", f"harness: {verdict}"]
    return "\n".join(lines)


def _check(what: str, ok: bool, detail: str) -> str:
    return f"{'PASS' if ok else 'FAIL'}  {what}" + ("" if ok or not detail else f" ({detail})")


def main(argv: list[str]) -> int:
    args = parse(argv)
    from bench import machine, source

    root = Path(tempfile.mkdtemp(prefix="wt-harness-"))
    print(f"scripts/harness: running in {root}", file=sys.stderr)
    m = machine()
    try:
        report = execute(args, root)
    finally:
        if args.keep:
            print(f"scripts/harness: kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    report = {
        "command": shlex.join(["scripts/harness", *argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": m,
        "source": source(),
        "machine_text": f"{m['nproc']} CPUs, {m['cpu']}; {m['os']}; python {m['python']}, "
        f"git {m['git']}; load average at start {' '.join(map(str, m['loadavg_at_start']))}",
        **report,
    }
    print(render(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
