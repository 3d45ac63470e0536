"""wt-commit's main job end to end, on a throwaway repository (run it as `scripts/demo`).

Several agents, each a process, commit concurrently through wt-commit. Three share ONE worktree
and each leaves work there it does not commit: a tracked file modified but not staged, a
modified file and a new file staged with `git add`, and an untracked note. Two more agents work
in worktrees of their own (`git worktree add`). Every agent's files live under agents/NAME/.

Then it checks, and exits 1 if anything is off:
  - every wt-commit succeeded and every commit on every branch is in `git wt log`;
  - every commit holds exactly the paths its agent named, all under agents/AGENT/ (no foreign
    files), checked with `git show --name-only` against the agent in `git wt log --json`;
  - each worktree's staged, dirty and untracked files are byte for byte what their agents left,
    and `git status` shows nothing else (the committed paths are clean in the index).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _scratch import GIT_WT, PYTHON, WT_COMMIT, git, hermetic_env, init_repo, write

SHARED = ("ana", "bo", "cy")  # all in the main worktree
ALONE = ("dee", "eli")  # each in its own worktree, on a branch named for it
COMMITS = 6  # per agent
GO = "go"  # the file whose appearance starts every agent at once


def initial(name: str, file: str) -> str:
    return f"{name}: {file} as committed at the start\n"


def left_staged(name: str) -> dict[str, str]:
    return {
        f"agents/{name}/staged.txt": f"{name}: staged with git add, not committed\n",
        f"agents/{name}/new-staged.txt": f"{name}: a new file, staged, not committed\n",
    }


def dirty_final(name: str) -> str:
    edits = "".join(f"{name}: unstaged edit {k}\n" for k in range(COMMITS))
    return initial(name, "dirty.txt") + edits


def note(name: str) -> str:
    return f"{name}: untracked scratch note\n"


# ---------------------------------------------------------------------------------------------
# One agent (runs in its own process)


def agent_main(name: str, tree: Path, go: Path) -> int:
    """Commit COMMITS times, one new file (and every other time the running log) each, while
    editing dirty.txt without committing it. Prints one JSON line per wt-commit."""
    while not go.exists():
        time.sleep(0.002)
    base = f"agents/{name}"
    log = ""
    for k in range(COMMITS):
        rels = [f"{base}/work-{k}.txt"]
        write(tree, rels[0], f"{name}: work item {k}\n")
        if k % 2:
            log += f"{name}: step {k}\n"
            write(tree, f"{base}/log.txt", log)
            rels.append(f"{base}/log.txt")
        with open(tree / base / "dirty.txt", "a") as fh:
            fh.write(f"{name}: unstaged edit {k}\n")
        proc = subprocess.run(
            [WT_COMMIT, "--json", "--agent", name, "-m", f"{name}: step {k}", "--", *rels],
            cwd=tree,
            capture_output=True,
            text=True,
        )
        try:
            result = json.loads(proc.stdout)
        except ValueError:
            result = {"outcome": None, "error": (proc.stdout + proc.stderr)[-400:]}
        print(json.dumps({"agent": name, "rc": proc.returncode, "asked": rels, **result}))
    return 0


# ---------------------------------------------------------------------------------------------
# The demo


class Checks:
    """Problems found, by kind: "commit", "foreign" (another agent's path), "left" (work an
    agent left uncommitted was touched)."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def fail(self, kind: str, text: str) -> None:
        self.problems.append((kind, text))

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.problems if k == kind)


def setup(root: Path, env: dict[str, str]) -> tuple[Path, dict[str, Path]]:
    files = {"README": "demo repository\n"}
    for name in (*SHARED, *ALONE):
        for file in ("dirty.txt", "staged.txt"):
            files[f"agents/{name}/{file}"] = initial(name, file)
    shared = init_repo(root / "shared", files, env)
    trees = {name: shared for name in SHARED}
    for name in ALONE:
        trees[name] = root / f"wt-{name}"
        git(shared, "worktree", "add", "-q", "-b", name, os.fspath(trees[name]), env=env)
    # The work each agent leaves uncommitted, present before anyone commits.
    for name, tree in trees.items():
        for rel, content in left_staged(name).items():
            write(tree, rel, content)
        git(tree, "add", "--", *left_staged(name), env=env)
        write(tree, f"agents/{name}/dirty.txt", initial(name, "dirty.txt"))
        write(tree, f"agents/{name}/notes.txt", note(name))
    return shared, trees


def run_agents(root: Path, trees: dict[str, Path], env: dict[str, str]) -> list[dict[str, Any]]:
    go = root / GO
    procs = {
        name: subprocess.Popen(
            [PYTHON, __file__, "_agent", name, os.fspath(tree), os.fspath(go)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, tree in trees.items()
    }
    go.touch()
    results: list[dict[str, Any]] = []
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=120)
        if proc.returncode != 0:
            results.append({"agent": name, "rc": proc.returncode, "outcome": "agent crashed"})
        results += [json.loads(line) for line in out.splitlines() if line.strip()]
    return results


def check_commits(
    shared: Path, env: dict[str, str], results: list[dict[str, Any]], checks: Checks
) -> Counter[str]:
    landed: Counter[str] = Counter()
    for r in results:
        if r.get("rc") != 0 or r.get("outcome") != "committed":
            failed = f"exit {r.get('rc')} {r.get('outcome')}: {r.get('error')}"
            checks.fail("commit", f"{r['agent']}: wt-commit {failed}")
    log = subprocess.run(
        [GIT_WT, "log", "--json", "--action", "commit"],
        cwd=shared,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    events = json.loads(log.stdout)["events"]
    by_commit = {e["commit"]: e for e in events if e.get("outcome") == "committed"}
    reported = {r["commit"]: r for r in results if r.get("commit")}
    # Every commit on every branch since the start, whoever made it, must be a logged wt-commit
    # holding exactly the paths its agent asked for, all under agents/AGENT/.
    base = git(shared, "rev-list", "--max-parents=0", "main", env=env).strip()
    on_branches = git(shared, "rev-list", "--all", f"^{base}", env=env).split()
    for oid in on_branches:
        event, report = by_commit.get(oid), reported.get(oid)
        agent = (event or report or {}).get("agent", "?")
        if event is None:
            checks.fail("commit", f"commit {oid[:12]} ({agent}) is not in `git wt log`")
        out = git(shared, "show", "--name-only", "--no-renames", "-z", "--format=", oid, env=env)
        files = sorted(p for p in out.split("\0") if p)
        outside = [f for f in files if not f.startswith(f"agents/{agent}/")]
        if outside:
            checks.fail("foreign", f"commit {oid[:12]} by {agent} holds foreign files: {outside}")
        asked = sorted(report["asked"]) if report else None
        if files != asked or (event and files != sorted(event["paths"])):
            checks.fail("commit", f"commit {oid[:12]} by {agent}: holds {files}, asked {asked}")
        landed[agent] += 1
    if len(on_branches) != sum(1 for r in results if r.get("outcome") == "committed"):
        checks.fail(
            "commit", f"{len(on_branches)} commits on branches, but agents reported otherwise"
        )
    return landed


def check_left_alone(trees: dict[str, Path], env: dict[str, str], checks: Checks) -> int:
    """Everything agents left uncommitted is intact; `git status` shows exactly that."""
    checked = 0
    for tree in sorted(set(trees.values())):
        names = [n for n, t in trees.items() if t == tree]
        want: set[str] = set()
        for name in names:
            base = f"agents/{name}"
            for rel, content in left_staged(name).items():
                checked += 1
                if git(tree, "show", f":{rel}", env=env) != content:
                    checks.fail("left", f"{tree.name}: staged {rel} changed in the index")
            if git(tree, "show", f"HEAD:{base}/staged.txt", env=env) != initial(name, "staged.txt"):
                checks.fail("left", f"{tree.name}: staged {base}/staged.txt was committed")
            dirty = f"{base}/dirty.txt"
            checked += 1
            if (tree / dirty).read_text() != dirty_final(name):
                checks.fail("left", f"{tree.name}: {dirty} changed on disk")
            if git(tree, "show", f":{dirty}", env=env) != initial(name, "dirty.txt"):
                checks.fail("left", f"{tree.name}: dirty {dirty} was staged or committed")
            checked += 1
            if (tree / base / "notes.txt").read_text() != note(name):
                checks.fail("left", f"{tree.name}: untracked {base}/notes.txt changed")
            want |= {f"M  {base}/staged.txt", f"A  {base}/new-staged.txt"}
            want |= {f" M {dirty}", f"?? {base}/notes.txt"}
        out = git(tree, "status", "--porcelain=v1", "-z", "--untracked-files=all", env=env)
        seen = {entry for entry in out.split("\0") if entry}
        if seen != want:
            checks.fail(
                "left",
                f"{tree.name}: git status differs; unexpected {sorted(seen - want)}, "
                f"missing {sorted(want - seen)}",
            )
    return checked


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] == "_agent":
        return agent_main(argv[1], Path(argv[2]), Path(argv[3]))
    ap = argparse.ArgumentParser(prog="scripts/demo", description=__doc__)
    ap.add_argument("--keep", action="store_true", help="keep the scratch repository")
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="wt-demo-"))
    try:
        return demo(root)
    finally:
        if args.keep:
            print(f"demo: kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def demo(root: Path) -> int:
    env = hermetic_env(root / "home")
    shared, trees = setup(root, env)
    print(f"demo: repository {shared}")
    print(f"demo: {', '.join(SHARED)} share the main worktree; ", end="")
    print(", ".join(f"{n} works in {trees[n].name}" for n in ALONE))
    print(f"demo: {len(trees)} agents x {COMMITS} commits, all at once")
    start = time.monotonic()
    results = run_agents(root, trees, env)
    elapsed = time.monotonic() - start
    checks = Checks()
    landed = check_commits(shared, env, results, checks)
    intact = check_left_alone(trees, env, checks)

    graph = git(shared, "log", "--oneline", "--graph", "--all", env=env).splitlines()
    print(f"\n$ git log --oneline --graph --all   (first 30 of {len(graph)} lines)")
    print("\n".join(graph[:30]))

    ok = [r for r in results if r.get("outcome") == "committed"]
    waits = sorted(float(r.get("lock_wait_ms", 0)) for r in ok)
    replays = sum(int(r.get("replays", 0)) for r in ok)
    print("\nsummary")
    per_agent = ", ".join(f"{n} {landed[n]}" for n in trees)
    print(f"  commits landed: {sum(landed.values())} ({per_agent}) in {elapsed:.1f}s")
    print(f"  failures: {len(results) - len(ok)}")
    foreign = checks.count("foreign")
    print(f"  foreign files: {'none' if not foreign else f'{foreign} (see PROBLEM lines)'}")
    state = "intact" if not checks.count("left") else "CHANGED (see PROBLEM lines)"
    print(f"  other agents' staged, dirty and untracked files: {state} ({intact} files checked)")
    if waits:
        print(f"  repository lock wait: max {waits[-1]:.1f} ms; replays: {replays}")
    for kind, problem in checks.problems:
        print(f"  PROBLEM ({kind}): {problem}")
    print(f"demo: {'OK' if not checks.problems else 'FAILED'}")
    return 0 if not checks.problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
