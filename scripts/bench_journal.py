"""Journal benchmark: `git wt journal verify` over a synthetic history, side by side with the
home-grown check it replaces (`git log -m --raw --no-renames -- journal/` piped into
`git cat-file --batch`, doing the same byte-prefix and content checks).

The history (100,000 commits, about 1,000 merges of side branches that add their own entries,
a journal that grows by appends and new entries) is written in one `git fast-import` stream.

    python scripts/bench_journal.py            # the full size
    python scripts/bench_journal.py --quick    # a smoke run (5,000 commits)

`run(...)` returns the figures as a dict, for scripts/bench.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from worktree_tools.journal.rules import content_problems  # noqa: E402


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


def build_history(
    path: Path, commits: int = 100_000, merges: int = 1_000, journal_every: int = 4
) -> dict[str, int]:
    """Write the synthetic history into a new repository at `path` (branch main)."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=path, stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    out = proc.stdin
    journal: dict[str, bytes] = {}
    entries: list[str] = []
    merge_every = max(commits // max(merges, 1), 2)
    mark = 0
    made = {"commits": 0, "merges": 0, "journal_commits": 0, "journal_files": 0}
    when = 1_700_000_000
    main_mark = 0

    def header(ref: str, msg: bytes) -> None:
        nonlocal mark, when
        mark += 1
        when += 7
        out.write(b"commit %s\nmark :%d\n" % (ref.encode(), mark))
        out.write(b"committer Bench <bench@example.com> %d +0000\n" % when)
        out.write(_data(msg))

    def new_entry(i: int, agent: str) -> tuple[str, bytes]:
        day = 1 + i // 500
        path = f"journal/2026-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}/{i:06d}-{agent}-work.md"
        return path, b"# %s %d\n" % (agent.encode(), i)

    i = 0
    while made["commits"] < commits:
        i += 1
        if i % merge_every == 0 and made["commits"] + 3 <= commits:
            # A side branch of two commits adding its own entries, merged back into main.
            side_files: dict[str, bytes] = {}
            for k in range(2):
                header("refs/heads/side", b"side %d.%d" % (i, k))
                if k == 0:
                    out.write(b"from :%d\n" % main_mark)
                p, content = new_entry(i * 10 + k, "side")
                side_files[p] = content
                out.write(b"M 100644 inline %s\n" % p.encode() + _data(content))
                made["commits"] += 1
            side_mark = mark
            header("refs/heads/main", b"merge side %d" % i)
            out.write(b"from :%d\nmerge :%d\n" % (main_mark, side_mark))
            for p, content in side_files.items():
                out.write(b"M 100644 inline %s\n" % p.encode() + _data(content))
                journal[p] = content
                entries.append(p)
            main_mark = mark
            made["commits"] += 1
            made["merges"] += 1
            continue
        header("refs/heads/main", b"commit %d" % i)
        if main_mark:
            out.write(b"from :%d\n" % main_mark)
        out.write(b"M 100644 inline src/f%d.txt\n" % (i % 50) + _data(b"v%d\n" % i))
        if i % journal_every == 0 or not entries:
            made["journal_commits"] += 1
            if i % (journal_every * 6) == 0 or not entries:
                p, content = new_entry(i, f"agent{i % 7}")
                entries.append(p)
            else:
                p = entries[-1 - (i // journal_every) % min(len(entries), 5)]
                content = journal[p] + b"- step %d done\n" % i
            journal[p] = content
            out.write(b"M 100644 inline %s\n" % p.encode() + _data(content))
        main_mark = mark
        made["commits"] += 1
    out.write(b"done\n")
    out.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    subprocess.run(["git", "branch", "-q", "-D", "side"], cwd=path, check=True)
    made["journal_files"] = len(journal)
    return made


def baseline(path: Path) -> dict[str, int]:
    """The home-grown check: git log's raw diffs (against every parent, -m), blobs through one
    `git cat-file --batch`, then the same prefix and content checks in Python."""
    log = subprocess.run(
        ["git", "log", "-m", "--raw", "--no-renames", "--format=%H", "--", "journal/"],
        cwd=path,
        capture_output=True,
        check=True,
    ).stdout
    pairs: list[tuple[bytes, bytes, bytes, bytes, bytes]] = []
    for line in log.split(b"\n"):
        if not line.startswith(b":"):
            continue
        meta, _tab, name = line.partition(b"\t")
        old_mode, new_mode, old, new, status = meta[1:].split(b" ")
        pairs.append((status, old_mode + b" " + new_mode, old, new, name))
    wanted = sorted({o for _s, _m, a, b, _n in pairs for o in (a, b) if o.strip(b"0")})
    blobs = _cat_file(path, wanted)
    problems = 0
    for status, modes, old, new, _name in pairs:
        if status == b"D" or modes.split(b" ")[1] != b"100644":
            problems += 1
        elif status == b"A":
            problems += bool(content_problems(blobs[new]))
        elif status == b"M":
            a, b = blobs[old], blobs[new]
            if b[: len(a)] != a or content_problems(b[len(a) :]):
                problems += 1
    return {"raw_lines": len(pairs), "blobs": len(wanted), "problems": problems}


def _cat_file(path: Path, oids: list[bytes]) -> dict[bytes, bytes]:
    proc = subprocess.Popen(
        ["git", "cat-file", "--batch"], cwd=path, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin = proc.stdin

    def feed() -> None:
        stdin.write(b"".join(o + b"\n" for o in oids))
        stdin.close()

    writer = threading.Thread(target=feed)
    writer.start()
    out: dict[bytes, bytes] = {}
    read = proc.stdout
    for oid in oids:
        header = read.readline().split(b" ")
        size = int(header[2])
        out[oid] = read.read(size)
        read.read(1)
    writer.join()
    proc.wait()
    return out


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def run(
    quick: bool = False, workdir: Path | None = None, repeat: int | None = None
) -> dict[str, Any]:
    """Build the history, then time verify and the baseline side by side (alternating, the
    best of `repeat` runs each: the machine may be shared), and a 1,000-commit range.
    Returns the figures."""
    import pygit2  # noqa: F401 - imported before the clock starts, like git is installed

    from worktree_tools.journal.verify import verify

    commits, merges = (5_000, 50) if quick else (100_000, 1_000)
    rounds = repeat if repeat is not None else (1 if quick else 3)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        repo = Path(tmp) / "history"
        build_s, made = timed(build_history, repo, commits, merges)
        verify_runs: list[float] = []
        base_runs: list[float] = []
        for _ in range(rounds):
            verify_s, result = timed(lambda: verify(repo, None, use_checkpoint=False))
            base_s, base = timed(baseline, repo)
            verify_runs.append(verify_s)
            base_runs.append(base_s)
        old = subprocess.run(
            ["git", "rev-parse", "main~1000"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        range_runs = [
            timed(lambda: verify(repo, f"{old}..main", use_checkpoint=False)) for _ in range(rounds)
        ]
        ranged = range_runs[0][1]
        cli_s, cli = timed(
            lambda: (
                subprocess.run(
                    [sys.executable, "-m", "worktree_tools", "journal", "verify", f"{old}..main"],
                    cwd=repo,
                    capture_output=True,
                ).returncode
            )
        )
    best_verify, best_base = min(verify_runs), min(base_runs)
    return {
        "commits": result.commits,
        "merges": result.merges,
        "journal_commits": made["journal_commits"],
        "journal_files": made["journal_files"],
        "build_s": round(build_s, 3),
        "verify_s": round(best_verify, 3),
        "baseline_s": round(best_base, 3),
        "verify_vs_baseline": round(best_verify / best_base, 3) if best_base else None,
        "verify_runs_s": [round(t, 3) for t in verify_runs],
        "baseline_runs_s": [round(t, 3) for t in base_runs],
        "baseline_raw_lines": base["raw_lines"],
        "baseline_problems": base["problems"],
        "range_commits": ranged.commits,
        "range_s": round(min(t for t, _r in range_runs), 4),
        "range_cli_s": round(cli_s, 3),
        "range_cli_exit": cli,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 commits: a smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeat", type=int, help="timed rounds (default: 3, 1 with --quick)")
    args = parser.parse_args(argv)
    figures = run(quick=args.quick, repeat=args.repeat)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>22}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
