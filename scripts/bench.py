"""Benchmarks for wt-commit on a throwaway repository (run it as `scripts/bench`).

Sections:
  latency      one small file per commit in a 30-file repository: wt-commit beside the flock
               wrapper (flock + git add + git commit -- PATH), `git commit -- PATH` and
               `python -I -c pass`, wall and CPU per commit, plus the repository-lock hold and
               wait times wt-commit reports.
  latency_large  the same on a 100,000-file repository (--quick: 10,000; --large-files N), each
               tool committing a file of its own 1,000-file directory.
  concurrency  aggregate commits/s with 1, 4 and 8 agents, each in its own worktree on its
               own branch, committing distinct files; failures are counted.
  paths        wt-commit of N new files beside `git add --pathspec-from-file` (N = 10,000;
               --quick 2,000; --paths N, e.g. the 100,000 of issue 10, where git add alone takes
               over 20 minutes: it matches every file against every pathspec).

Within a section every kind of measurement is taken round-robin in one run, so the noise of a
shared machine hits them alike: quote the ratios, not the milliseconds.

To add a section write `def bench_x(ctx: Context) -> Section`, decorate it with
`@benchmark("x", "Title")`; `--only x` selects it and both renderers (this table and
scripts/gen_benchmarks.py) show it without further changes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from _scratch import PYTHON, WT_COMMIT, git, hermetic_env, init_repo, write

# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Target:
    """A figure and what it should be; `limit` None means reported for information only.
    A missed `gate` (correctness, never timing) makes the run exit 1."""

    name: str
    value: float
    unit: str
    op: str = "<="
    limit: float | None = None
    gate: bool = False

    @property
    def met(self) -> bool | None:
        if self.limit is None:
            return None
        return {
            "<": self.value < self.limit,
            "<=": self.value <= self.limit,
            ">=": self.value >= self.limit,
            "==": self.value == self.limit,
        }[self.op]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": round(self.value, 3),
            "unit": self.unit,
            "op": self.op,
            "limit": self.limit,
            "met": self.met,
            "gate": self.gate,
        }


@dataclass
class Section:
    name: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    figures: dict[str, Any]
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": self.columns,
            "rows": self.rows,
            "figures": self.figures,
            "targets": [t.to_json() for t in self.targets],
            "notes": self.notes,
        }


@dataclass
class Context:
    root: Path
    env: dict[str, str]
    rounds: int
    passes: int
    commits: int
    quick: bool
    paths: int | None = None  # the paths section's size (None: its default)
    large_files: int | None = None  # the latency_large repository's size (None: its default)

    def new_repo(self, name: str, files: dict[str, str]) -> Path:
        return init_repo(self.root / name, files, self.env)

    def run(self, argv: Sequence[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
        """Run `argv`; return (wall milliseconds, the finished process)."""
        start = time.perf_counter()
        proc = subprocess.run(
            list(argv), cwd=cwd, env=self.env, capture_output=True, text=True, errors="replace"
        )
        return (time.perf_counter() - start) * 1000, proc

    def run_cpu(
        self, argv: Sequence[str], cwd: Path
    ) -> tuple[float, float, subprocess.CompletedProcess[str]]:
        """Run `argv`; return (wall ms, CPU ms of it and its children, the finished process)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, proc = self.run(argv, cwd)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu * 1000, proc


Bench = Callable[[Context], Section]
BENCHMARKS: dict[str, tuple[str, Bench]] = {}


def benchmark(name: str, title: str) -> Callable[[Bench], Bench]:
    def register(fn: Bench) -> Bench:
        BENCHMARKS[name] = (title, fn)
        return fn

    return register


class BenchFailed(Exception):
    """A measurement could not be taken (a tool failed where it must not)."""


# ---------------------------------------------------------------------------------------------
# Statistics


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation: with few samples it is an observed value)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def stats(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "median": math.nan, "p95": math.nan, "min": math.nan, "max": math.nan}
    return {
        "n": len(values),
        "median": round(statistics.median(values), 3),
        "p95": round(pct(values, 95), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def rotate(items: Sequence[Any], by: int) -> list[Any]:
    k = by % len(items)
    return [*items[k:], *items[:k]]


def wt_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    try:
        value = json.loads(proc.stdout)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise BenchFailed(
            f"wt-commit exited {proc.returncode} without a JSON object: "
            f"{proc.stdout[-500:]} {proc.stderr[-500:]}"
        )
    return value


# ---------------------------------------------------------------------------------------------
# Benchmarks


FLOCK_WRAPPER = 'git add -- "$1" && git commit -q -m "$2" -- "$1"'
LARGE_FILES = 100_000  # --quick: 10,000
SMALL_PATHS = ("wt/a.txt", "git/b.txt", "flock/c.txt")  # what each tool commits, one apiece
# In the large repository each tool commits a file of its own 1,000-file directory: editing the
# tree costs what the directories on the way cost, so a small directory would flatter wt-commit.
LARGE_PATHS = ("tree/d1/f0.txt", "tree/d2/f0.txt", "tree/d3/f0.txt")


@benchmark("latency", "Commit latency, one small file per commit, in a 30-file repository")
def bench_latency(ctx: Context) -> Section:
    files = {f"src/f{i}.txt": f"{i}\n" for i in range(27)}
    repo = ctx.new_repo("latency", {**dict.fromkeys(SMALL_PATHS, "0\n"), **files})
    return _latency(ctx, "latency", repo, SMALL_PATHS, large=False)


@benchmark("latency_large", "Commit latency, one small file per commit, in a large repository")
def bench_latency_large(ctx: Context) -> Section:
    count = ctx.large_files or (10_000 if ctx.quick else LARGE_FILES)
    repo = ctx.root / "latency-large"
    repo.mkdir()
    for d in range(max(4, count // 1000)):
        sub = repo / "tree" / f"d{d}"
        sub.mkdir(parents=True)
        for i in range(1000):
            (sub / f"f{i}.txt").write_text(f"{d} {i}\n")
    git(repo, "init", "-q", env=ctx.env)
    git(repo, "add", "-A", env=ctx.env)
    git(repo, "commit", "-q", "-m", "init", env=ctx.env)
    return _latency(ctx, "latency_large", repo, LARGE_PATHS, large=True)


def _latency(
    ctx: Context, name: str, repo: Path, paths: tuple[str, str, str], *, large: bool
) -> Section:
    """wt-commit beside the flock wrapper, `git commit -- PATH` and interpreter start-up, taken
    round-robin on one repository: wall and CPU (user + system of the process and its
    children) per run, and the repository-lock hold and wait wt-commit reports."""
    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    holds: list[float] = []
    waits: list[float] = []
    inside: list[float] = []
    lock = ctx.root / f"{name}-wrapper.lock"
    ours, plain_path, flock_path = paths

    def wt_commit(i: int) -> tuple[float, float]:
        write(repo, ours, f"{i}\n")
        wall, cpu, proc = ctx.run_cpu(
            [WT_COMMIT, "--json", "--agent", "bench", "-m", f"wt {i}", "--", ours], repo
        )
        res = wt_json(proc)
        if proc.returncode != 0 or res.get("outcome") != "committed":
            raise BenchFailed(f"wt-commit: {res}")
        holds.append(float(res["lock_hold_ms"]))
        waits.append(float(res["lock_wait_ms"]))
        inside.append(float(res["duration_ms"]))
        return wall, cpu

    def checked(argv: list[str], path: str | None) -> Callable[[int], tuple[float, float]]:
        def run(i: int) -> tuple[float, float]:
            if path is not None:
                write(repo, path, f"{i}\n")
            wall, cpu, proc = ctx.run_cpu([a.replace("{i}", str(i)) for a in argv], repo)
            if proc.returncode != 0:
                raise BenchFailed(f"{shlex.join(argv)} exited {proc.returncode}: {proc.stderr}")
            return wall, cpu

        return run

    wrapper = ["flock", os.fspath(lock), "sh", "-c", FLOCK_WRAPPER, "sh", flock_path, "fl {i}"]
    kinds: dict[str, Callable[[int], tuple[float, float]]] = {
        "wt-commit": wt_commit,
        "flock wrapper (flock + git add + git commit -- PATH)": checked(wrapper, flock_path),
        "git commit -- PATH": checked(
            ["git", "commit", "-q", "-m", "git {i}", "--", plain_path], plain_path
        ),
        "python -I -c pass": checked([PYTHON, "-I", "-c", "pass"], None),
    }
    for run in kinds.values():  # warm the page cache; not recorded
        run(-1)
    holds.clear()
    waits.clear()
    inside.clear()
    walls = {k: [] for k in kinds}
    cpus = {k: [] for k in kinds}
    names = list(kinds)
    rounds = max(3, ctx.rounds // 4) if large else ctx.rounds
    for i in range(rounds):
        for kind in rotate(names, i):
            wall, cpu = kinds[kind](i)
            walls[kind].append(wall)
            cpus[kind].append(cpu)

    figures: dict[str, Any] = {f"wall_ms[{k}]": stats(v) for k, v in walls.items()}
    figures.update({f"cpu_ms[{k}]": stats(v) for k, v in cpus.items()})
    figures["wt_commit_duration_ms"] = stats(inside)
    figures["lock_hold_ms"] = stats(holds)
    figures["lock_wait_ms"] = stats(waits)
    figures["load_average"] = list(os.getloadavg())
    rows = []
    for kind in names:
        w, c = stats(walls[kind]), stats(cpus[kind])
        rows.append(
            [kind, ms(w["median"]), ms(w["p95"]), ms(w["min"]), ms(c["median"]), str(w["n"])]
        )
    for label, values in (
        ("wt-commit, inside the process (duration_ms)", inside),
        (
            "wt-commit, start-up and imports (wall - duration_ms)",
            [w - d for w, d in zip(walls["wt-commit"], inside, strict=True)],
        ),
        ("repository lock held (lock_hold_ms)", holds),
        ("repository lock wait (lock_wait_ms)", waits),
    ):
        st = stats(values)
        rows.append([label, ms(st["median"]), ms(st["p95"]), ms(st["min"]), "", str(st["n"])])

    def med(kind: str, of: dict[str, list[float]]) -> float:
        return statistics.median(of[kind])

    wt, plain = med("wt-commit", walls), med("git commit -- PATH", walls)
    flock = med(names[1], walls)
    startup = med("python -I -c pass", walls)
    figures["ratio_wt_over_flock_wrapper"] = round(wt / flock, 3)
    figures["ratio_wt_over_git_commit"] = round(wt / plain, 3)
    figures["ratio_wt_over_python_startup"] = round(wt / startup, 3)
    cpu_wt = med("wt-commit", cpus)
    targets = [
        Target("wt-commit / git commit -- PATH (median wall)", wt / plain, "x"),
        Target("wt-commit CPU per commit, median", cpu_wt, "ms"),
        Target("repository lock hold, p95 (no hooks)", pct(holds, 95), "ms"),
    ]
    if large:
        targets[0] = Target(
            "wt-commit / git commit -- PATH (median wall)", wt / plain, "x", "<=", 1.3
        )
    else:
        targets[1] = Target("wt-commit CPU per commit, median", cpu_wt, "ms", "<=", 35)
        targets += [
            Target("wt-commit / flock wrapper (median wall)", wt / flock, "x", "<=", 4),
            Target(
                "repository lock hold, median (no hooks)", statistics.median(holds), "ms", "<", 2
            ),
        ]
    size = (
        "a 30-file repository" if not large else f"a {len(_tracked(repo, ctx)):,}-file repository"
    )
    imports = [] if large else _hot_imports(figures, targets)
    return Section(
        name=name,
        title=BENCHMARKS[name][0],
        columns=["measurement", "median ms", "p95 ms", "min ms", "CPU ms", "n"],
        rows=rows,
        figures=figures,
        targets=targets,
        notes=[
            f"{rounds} rounds on {size}; each round runs the four commands once, in rotating "
            "order (tracked files, one line changed per commit); no hooks. Each tool commits "
            f"its own file: wt-commit {ours}, git commit {plain_path}, the wrapper {flock_path}.",
            "The flock wrapper is `flock LOCK sh -c 'git add -- PATH && git commit -q -m M -- "
            "PATH'`, the shell wrapper agent fleets use; `python -I -c pass` is interpreter "
            "start-up alone. CPU is user + system time of the command and its children.",
            f"Load average during the run: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.",
            *imports,
        ],
    )


def _hot_imports(figures: dict[str, Any], targets: list[Target]) -> list[str]:
    """What `python scripts/hot_imports.py` finds, added to the latency section: the project
    modules a plain commit loads and the heavy modules (docs/hot-path.md) it imports, in all
    and per project module. Returns the section's notes about it."""
    from hot_imports import measure

    found = measure()
    heavy: list[str] = found["whole_run"]
    by_module = {m: h for m, h in found["modules"].items() if h}
    figures["hot_path_project_modules"] = len(found["modules"])
    figures["hot_path_heavy_modules"] = heavy
    figures["hot_path_heavy_by_module"] = by_module
    targets += [
        Target("project modules a plain commit loads", len(found["modules"]), ""),
        Target("heavy modules a plain commit imports (hot_imports.py)", len(heavy), "", "==", 0),
    ]
    notes = [
        f"A plain commit loads {len(found['modules'])} project modules; heavy modules "
        f"imported: {' '.join(heavy) or 'none'} (python scripts/hot_imports.py, "
        "docs/hot-path.md)."
    ]
    if by_module:
        names = " ".join(m.removeprefix("worktree_tools.") for m in by_module)
        notes.append(f"Not lean yet ({len(by_module)} of {len(found['modules'])}): {names}.")
    return notes


def _tracked(repo: Path, ctx: Context) -> list[str]:
    return git(repo, "ls-files", env=ctx.env).splitlines()


@dataclass
class _Level:
    agents: int
    rates: list[float] = field(default_factory=list)  # commits/s, one per pass
    walls: list[float] = field(default_factory=list)  # per commit, ms
    holds: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    commits: int = 0
    failures: list[str] = field(default_factory=list)


@benchmark("concurrency", "Concurrent agents, each in its own worktree and branch")
def bench_concurrency(ctx: Context) -> Section:
    levels = [_Level(n) for n in (1, 4, 8)]
    most = max(lv.agents for lv in levels)
    repo = ctx.new_repo("concurrency", {"README": "bench\n"})
    trees: list[Path] = []
    for i in range(most):
        path = ctx.root / f"concurrency-agent-{i}"
        git(repo, "worktree", "add", "-q", "-b", f"agent-{i}", os.fspath(path), env=ctx.env)
        trees.append(path)
    succeeded = [0] * most
    for p in range(ctx.passes):
        for level in rotate(levels, p):
            _run_level(ctx, level, trees, p, succeeded)
    # Every reported success must be on its branch: count what landed.
    landed = [
        int(git(repo, "rev-list", "--count", f"main..agent-{i}", env=ctx.env)) for i in range(most)
    ]
    missing = sum(max(0, s - n) for s, n in zip(succeeded, landed, strict=True))

    base = statistics.median(levels[0].rates)
    rows = []
    figures: dict[str, Any] = {}
    for lv in levels:
        rate = statistics.median(lv.rates)
        hold, wait, wall = stats(lv.holds), stats(lv.waits), stats(lv.walls)
        rows.append(
            [
                str(lv.agents),
                str(lv.commits),
                f"{rate:.1f}",
                " / ".join(f"{r:.1f}" for r in lv.rates),
                f"{rate / base:.2f}x",
                f"{ms(wall['median'])} / {ms(wall['p95'])}",
                f"{ms(hold['median'])} / {ms(hold['p95'])}",
                f"{ms(wait['median'])} / {ms(wait['p95'])}",
                str(len(lv.failures)),
            ]
        )
        figures[f"agents={lv.agents}"] = {
            "commits": lv.commits,
            "commits_per_s_median": round(rate, 3),
            "commits_per_s_per_pass": [round(r, 3) for r in lv.rates],
            "speedup_vs_1": round(rate / base, 3),
            "wall_ms": wall,
            "lock_hold_ms": hold,
            "lock_wait_ms": wait,
            "failures": len(lv.failures),
            "failure_samples": lv.failures[:5],
        }
    failures = sum(len(lv.failures) for lv in levels)
    figures["failures"] = failures
    samples = [f for lv in levels for f in lv.failures][:3]
    figures["reported_but_not_landed"] = missing
    top = levels[-1]
    return Section(
        name="concurrency",
        title=BENCHMARKS["concurrency"][0],
        columns=[
            "agents",
            "commits",
            "commits/s (median)",
            "commits/s per pass",
            "vs 1 agent",
            "latency ms med / p95",
            "lock hold ms med / p95",
            "lock wait ms med / p95",
            "failures",
        ],
        rows=rows,
        figures=figures,
        targets=[
            Target("failed commits, all levels", failures, "", "==", 0, gate=True),
            Target("commits reported but not on their branch", missing, "", "==", 0, gate=True),
            Target(
                f"repository lock hold, median, {top.agents} agents",
                statistics.median(top.holds) if top.holds else math.nan,
                "ms",
            ),
        ],
        notes=[
            f"{ctx.passes} passes over the levels in rotating order; each agent makes "
            f"{ctx.commits} commits per pass, one new file each, as fast as it can.",
            "Each agent is a thread that runs one wt-commit process after another in its own "
            "worktree; commits/s = commits landed / wall time of the level.",
            f"The machine has {os.cpu_count()} CPUs: beyond that, agents share cores, so "
            "throughput measures the lock's overhead, not parallel speed-up.",
            *(f"failure: {f}" for f in samples),
        ],
    )


def _run_level(
    ctx: Context, level: _Level, trees: list[Path], pass_no: int, succeeded: list[int]
) -> None:
    gate = threading.Barrier(level.agents + 1)
    guard = threading.Lock()

    def agent(i: int) -> None:
        tree, name = trees[i], f"agent-{i}"
        gate.wait()
        for k in range(ctx.commits):
            rel = f"{name}/n{level.agents}-p{pass_no}-k{k}.txt"
            write(tree, rel, f"{name} {k}\n")
            wall, proc = ctx.run(
                [WT_COMMIT, "--json", "--agent", name, "-m", f"{name}: {rel}", "--", rel], tree
            )
            try:
                res = wt_json(proc)
            except BenchFailed as err:
                res = {"outcome": None, "error": str(err)}
            with guard:
                if proc.returncode != 0 or res.get("outcome") != "committed":
                    level.failures.append(
                        f"{name}: exit {proc.returncode} {res.get('outcome')} {res.get('error')}"
                    )
                    continue
                level.commits += 1
                succeeded[i] += 1
                level.walls.append(wall)
                level.holds.append(float(res["lock_hold_ms"]))
                level.waits.append(float(res["lock_wait_ms"]))

    threads = [threading.Thread(target=agent, args=(i,)) for i in range(level.agents)]
    for t in threads:
        t.start()
    before = level.commits
    gate.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    level.rates.append((level.commits - before) / (time.perf_counter() - start))


# ---------------------------------------------------------------------------------------------
# Machine, report, CLI


# ---------------------------------------------------------------------------------------------
# Sections measured by the other issues' benchmark modules (scripts/bench_*.py)


def _section(data: dict[str, Any], targets: list[Target] | None = None) -> Section:
    """A Section from a module's Section-shaped dict (its targets as dicts, if any)."""
    fields = ("name", "value", "unit", "op", "limit", "gate")
    got = [Target(**{k: t[k] for k in fields if k in t}) for t in data.get("targets", [])]
    got += targets or []
    return Section(
        name=data["name"],
        title=data["title"],
        columns=data["columns"],
        rows=data["rows"],
        figures=data.get("figures", {}),
        targets=[Target(t.name, t.value, t.unit, t.op, t.limit, t.gate) for t in got],
        notes=data.get("notes", []),
    )


@benchmark("fleet", "Fleet: many agents in their own worktrees, a 0.3 s pre-commit hook")
def bench_fleet(ctx: Context) -> Section:
    import bench_fleet as mod

    return _section(mod.run(ctx.quick))


@benchmark("worktrees", "Per-agent worktrees: alloc beside git worktree add; gc")
def bench_worktrees(ctx: Context) -> Section:
    import bench_worktrees as mod

    data = mod.run(quick=ctx.quick, root=ctx.root)
    alloc, gc = data["figures"]["alloc"], data["figures"]["gc"]
    return _section(
        data,
        [
            Target("git wt alloc / git worktree add (median)", alloc["ratio_median"], "x"),
            Target("gc: work at risk that was lost", gc["lost"], "", "==", 0, gate=True),
            Target("gc: ms per worktree", gc["per_worktree_ms"], "ms"),
        ],
    )


@benchmark("paths", "Many named paths: wt-commit beside git add --pathspec-from-file")
def bench_paths(ctx: Context) -> Section:
    import bench_paths as mod

    return _section(mod.run(quick=ctx.quick, root=ctx.root, paths=ctx.paths))


@benchmark("env", "Worktree environments: alloc with a 200 MB node_modules in .worktreeinclude")
def bench_env(ctx: Context) -> Section:
    import bench_env as mod

    return _section(mod.run(quick=ctx.quick, root=ctx.root))


@benchmark("journal", "Journal verify over a synthetic history")
def bench_journal(ctx: Context) -> Section:
    import bench_journal as mod

    f = mod.run(quick=ctx.quick, workdir=ctx.root)
    rows = [
        [f"git wt journal verify, whole history ({f['commits']:,} commits, {f['merges']:,} "
         "merges)", f"{f['verify_s']:.3f}"],
        ["baseline: git log -m --raw --no-renames -- journal/ | git cat-file --batch + checks",
         f"{f['baseline_s']:.3f}"],
        [f"verify OLD..NEW, {f['range_commits']:,} commits (in process)", f"{f['range_s']:.4f}"],
        ["the same range from the command line (start-up included)", f"{f['range_cli_s']:.3f}"],
        ["building the history (fast-import)", f"{f['build_s']:.3f}"],
    ]  # fmt: skip
    return Section(
        name="journal",
        title="Journal verify over a synthetic history",
        columns=["measurement", "seconds"],
        rows=rows,
        figures=f,
        targets=[
            Target(
                "journal verify / baseline (whole history)", f["verify_vs_baseline"], "x", "<=", 1.0
            ),
            Target("journal verify of a 1,000-commit range", f["range_s"], "s", "<", 1.0),
            Target(
                "journal verify exit on the valid history (CLI)",
                f["range_cli_exit"],
                "",
                "==",
                0,
                gate=True,
            ),
        ],
        notes=[
            f"{f['journal_commits']:,} commits touch the journal ({f['journal_files']:,} files); "
            "best of the alternating rounds (verify, baseline, verify, ...): "
            f"verify {f['verify_runs_s']}, baseline {f['baseline_runs_s']}.",
        ],
    )


@benchmark("hooks", "Hooks: husky + lint-staged + prettier, isolated vs in place vs plain git")
def bench_hooks(ctx: Context) -> Section:
    import bench_hooks as mod

    return _section(mod.run(quick=ctx.quick, root=ctx.root))


@benchmark("remote", "Commits through one loopback git server: 2, 4 and 8 machines")
def bench_remote(ctx: Context) -> Section:
    import bench_remote as mod

    return _section(mod.run(ctx.quick))


@benchmark("tasks", "Task board: `next` throughput beside a flock-guarded JSON file")
def bench_tasks(ctx: Context) -> Section:
    import bench_tasks as mod

    return _section(mod.run(ctx.quick))


@benchmark("untrusted", "Validating untrusted state: policy pass, event log")
def bench_untrusted(ctx: Context) -> Section:
    import bench_untrusted as mod

    data = mod.run(ctx.quick, ctx.root)
    f = data["figures"]
    return _section(
        data,
        [
            Target("policy pass / whole journal verify", f["policy_share"], "x"),
            Target("validated event log read / bare json.loads", f["events_ratio"], "x"),
        ],
    )


@benchmark("guard", "reference-transaction shim: fetch of 1,000 refs, 100 update-refs")
def bench_guard(ctx: Context) -> Section:
    import bench_guard as mod

    return _section(mod.run(quick=ctx.quick, root=ctx.root))


@benchmark("land", "Land queue: serial vs --batch 4; overhead per landing")
def bench_land(ctx: Context) -> Section:
    import bench_land as mod

    return _section(mod.run(quick=ctx.quick, root=ctx.root))


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    pygit2 = subprocess.run(
        [PYTHON, "-c", "import pygit2; print(pygit2.__version__, pygit2.LIBGIT2_VERSION)"],
        capture_output=True,
        text=True,
    ).stdout.split()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "git": git_version.strip().removeprefix("git version "),
        "pygit2": pygit2[0] if pygit2 else "?",
        "libgit2": pygit2[1] if len(pygit2) > 1 else "?",
        "os": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def source() -> dict[str, Any]:
    """Which code was measured: the checkout's HEAD and any uncommitted package changes."""
    here = Path(__file__).resolve().parent.parent

    def read(*args: str) -> str:
        proc = subprocess.run(
            ["git", "--no-optional-locks", *args], cwd=here, capture_output=True, text=True
        )
        return proc.stdout.rstrip("\n") if proc.returncode == 0 else ""

    changed = read("status", "--porcelain", "--", "worktree_tools").splitlines()
    head = read("rev-parse", "--short", "HEAD") or "?"
    return {"head": head, "dirty": [line[3:] for line in changed]}


def source_text(src: dict[str, Any]) -> str:
    text = f"worktree_tools at {src['head']}"
    if src["dirty"]:
        text += " plus uncommitted changes to " + ", ".join(src["dirty"])
    return text


def render_text(report: dict[str, Any]) -> str:
    m = report["machine"]
    out = [
        f"command: {report['command']}",
        f"date:    {report['date']}",
        f"code:    {source_text(report['source'])}",
        f"machine: {m['nproc']} CPUs, {m['cpu']}; python {m['python']}, git {m['git']}, "
        f"pygit2 {m['pygit2']} (libgit2 {m['libgit2']}); load average at start "
        f"{' '.join(str(x) for x in m['loadavg_at_start'])}",
    ]
    for sec in report["sections"]:
        out += ["", f"== {sec['title']} ({sec['name']})", *_table(sec["columns"], sec["rows"])]
        if sec["targets"]:
            out.append("")
            for t in sec["targets"]:
                out.append(f"  {verdict(t):<8} {t['name']}: {target_text(t)}")
        out += [f"  note: {n}" for n in sec["notes"]]
    met = [t["met"] for sec in report["sections"] for t in sec["targets"] if t["met"] is not None]
    out += ["", f"targets met: {sum(met)}/{len(met)}"]
    return "\n".join(out)


def verdict(t: dict[str, Any]) -> str:
    return {True: "MET", False: "MISSED", None: "info"}[t["met"]]


def target_text(t: dict[str, Any]) -> str:
    value = f"{t['value']:.2f}{t['unit']}" if t["unit"] else f"{t['value']:g}"
    if t["limit"] is None:
        return value
    limit = f"{t['limit']:g}{t['unit']}"
    return f"{value} (target {t['op']} {limit})"


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  " + "  ".join([first, *rest])

    return [line(columns), "  " + "  ".join("-" * w for w in widths), *map(line, rows)]


def parse(argv: Sequence[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="scripts/bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="few iterations (smoke test)")
    ap.add_argument("--rounds", type=int, help="latency rounds (default 40; --quick 5)")
    ap.add_argument("--passes", type=int, help="concurrency passes (default 3; --quick 1)")
    ap.add_argument("--commits", type=int, help="commits per agent per pass (default 6; quick 2)")
    ap.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        help="run only this section (repeatable)",
    )
    ap.add_argument(
        "--paths",
        type=int,
        help="named paths in the paths section (default 10,000; --quick 2,000; issue 10 names "
        "100,000, where the git add baseline alone takes over 20 minutes)",
    )
    ap.add_argument(
        "--large-files",
        type=int,
        help=f"files in the latency_large repository (default {LARGE_FILES:,}; --quick 10,000)",
    )
    ap.add_argument("--json", metavar="FILE", help="also write the raw figures to FILE")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args(argv)
    for name, full, quick in (("rounds", 40, 5), ("passes", 3, 1), ("commits", 6, 2)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
        elif getattr(args, name) < 1:
            ap.error(f"--{name} must be at least 1")
    if args.paths is not None and args.paths < 1:
        ap.error("--paths must be at least 1")
    if args.large_files is not None and args.large_files < 1000:
        ap.error("--large-files must be at least 1000")
    return args


def compile_package() -> None:
    """Byte-compile worktree_tools, as pip does when it installs a wheel. In a checkout with
    PYTHONDONTWRITEBYTECODE set, every module changed since its .pyc would otherwise be compiled
    again at each start of each measured command (~10 ms of CPU per wt-commit), a cost no
    installed copy has."""
    import compileall

    import worktree_tools

    compileall.compile_dir(Path(worktree_tools.__file__).parent, quiet=1)


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    command = shlex.join(["scripts/bench", *argv])
    root = Path(tempfile.mkdtemp(prefix="wt-bench-"))
    ctx = Context(
        root=root,
        env=hermetic_env(root / "home"),
        rounds=args.rounds,
        passes=args.passes,
        commits=args.commits,
        quick=args.quick,
        paths=args.paths,
        large_files=args.large_files,
    )
    report: dict[str, Any] = {
        "command": command,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "source": source(),
        "sections": [],
    }
    print(f"scripts/bench: running in {root}", file=sys.stderr)
    compile_package()
    try:
        for name in args.only or list(BENCHMARKS):
            title, fn = BENCHMARKS[name]
            print(f"scripts/bench: {title} ...", file=sys.stderr)
            started = time.perf_counter()
            section = fn(ctx)
            section.figures["section_seconds"] = round(time.perf_counter() - started, 1)
            report["sections"].append(section.to_json())
    except BenchFailed as err:
        print(f"scripts/bench: failed: {err}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"scripts/bench: kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(render_text(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    broken = [
        t["name"] for s in report["sections"] for t in s["targets"] if t["gate"] and not t["met"]
    ]
    if broken:
        print(f"scripts/bench: correctness failed: {'; '.join(broken)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
