"""One agent of the fault-injection harness (run by scripts/harness.py, one process per agent).

The agent allocates its worktree (owned by this process), then runs its planned operations:
commit a new file through wt-commit, append to the journal, leave an uncommitted edit,
heartbeat. Some operations are planned to be killed with SIGKILL: through `WT_FAULT` at a named
point of wt-commit, in the middle of the pre-commit hook, or at a random moment. Every step is
written to the agent's ledger (JSON Lines, one write() each) *before* the next step starts, so
the checker knows what was written and what was reported committed even when this process is
itself killed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
WT_COMMIT = os.fspath(BIN / "wt-commit")
GIT_WT = os.fspath(BIN / "git-wt")

KILL_METHODS = ("staged", "built", "locked", "index-synced", "landed", "mid-hook", "random")
ALLOC_KILLS = ("random", "wt-alloc-added")


class Ledger:
    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, **entry: Any) -> None:
        os.write(self.fd, (json.dumps(entry) + "\n").encode())


class Agent:
    def __init__(self, run_dir: Path, index: int) -> None:
        cfg = json.loads((run_dir / "config.json").read_text())
        self.cfg = cfg
        self.name = f"agent-{index}"
        self.repo = Path(cfg["repo"])
        self.marks = run_dir / "marks"
        self.plan: list[dict[str, Any]] = cfg["plans"][index]
        self.rng = random.Random(f"{cfg['seed']}-{index}-timing")
        self.kill_rate = float(cfg["kill_rate"])
        self.ledger = Ledger(run_dir / "ledgers" / f"{self.name}.jsonl")
        self.tree = self.repo
        self.committed: list[str] = []

    # ---- running tools, killing some ---------------------------------------------------

    def run(
        self,
        argv: list[str],
        cwd: Path,
        op: int,
        kill: str | None = None,
        draw: tuple[str, ...] = (),
    ) -> tuple[int, dict[str, Any]]:
        """Run a tool. `kill` is the planned way to kill it (the plan's first attempts);
        otherwise (retries, alloc, release) it is killed at the kill rate in one of `draw`."""
        env = dict(os.environ)
        mark = self.marks / f"{self.name}-{op}-{self.rng.random():.9f}"
        if kill is None and draw and self.rng.random() < self.kill_rate:
            kill = self.rng.choice(draw)
        if kill not in (None, "mid-hook", "random"):
            env["WT_FAULT"] = kill
        if kill == "mid-hook":
            env["HARNESS_HOOK_MARK"] = os.fspath(mark)
        self.ledger.write(ev="spawn", op=op, tool=Path(argv[0]).name + " " + argv[1])
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        if kill == "mid-hook":
            while proc.poll() is None and not mark.exists():
                time.sleep(0.002)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        elif kill == "random":
            deadline = time.monotonic() + self.rng.uniform(0.0, 0.4)
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate()
        if proc.returncode == -signal.SIGKILL:
            self.ledger.write(ev="killed", op=op, method=kill, tool=Path(argv[0]).name)
            return -9, {}
        try:
            data = json.loads(out)
        except ValueError:
            data = {"error": (out + err)[-300:]}
        return proc.returncode, data if isinstance(data, dict) else {}

    def retrying(self, argv: list[str], cwd: Path, op: int, kill: str | None) -> tuple[int, Any]:
        """Run; after a kill or a lock timeout try again (wt-commit is idempotent)."""
        rc, data = self.run(argv, cwd, op, kill)
        tries = 0
        while rc in (-9, 3) and tries < 6:
            tries += 1
            time.sleep(0.05 * tries)
            rc, data = self.run(argv, cwd, op, draw=KILL_METHODS)
        return rc, data

    # ---- operations ----------------------------------------------------------------------

    def alloc(self) -> None:
        argv = [GIT_WT, "alloc", self.name, "--owner-pid", str(os.getpid()), "--json"]
        for attempt in range(10):
            rc, data = self.run(argv, self.repo, -1, draw=ALLOC_KILLS)
            if rc == 0:
                self.tree = Path(data["worktree"])
                self.ledger.write(ev="alloc", path=data["worktree"], branch=data["branch"])
                return
            time.sleep(0.1 * (attempt + 1))
        raise SystemExit(f"{self.name}: alloc failed: {data}")

    def commit(self, op: int, token: str, kill: str | None) -> None:
        rel = f"{self.name}/f{op}.txt"
        self.write(rel, token, op, "commit")
        argv = [WT_COMMIT, "--json", "--agent", self.name, "-m", f"{self.name}: op {op}", "--"]
        rc, data = self.retrying([*argv, rel], self.tree, op, kill)
        self.report(op, token, rc, data)
        if rc == 0:
            self.committed.append(rel)

    def journal(self, op: int, token: str, kill: str | None) -> None:
        argv = [GIT_WT, "journal", "append", "--json", "--agent", self.name]
        # No retry after a kill: the entry may have landed, and a second append would write
        # the text twice. What was written and not committed stays in the worktree.
        rc, data = self.run([*argv, "--topic", f"op-{op}", token], self.tree, op, kill)
        if rc == 3:
            rc, data = self.run(
                [*argv, "--topic", f"op-{op}", token], self.tree, op, draw=("random",)
            )
        # The tool writes the entry itself: a run killed early (or one that failed and put
        # the file back) wrote nothing. Count the change as made only when it is visible.
        if rc == 0 or self.visible(token):
            self.ledger.write(ev="written", op=op, token=token, kind="journal")
        else:
            self.ledger.write(ev="never_written", op=op, token=token, kind="journal", rc=rc)
        self.report(op, token, rc, data)

    def visible(self, token: str) -> bool:
        """Is the text on disk under journal/ in the worktree, or in its branch?"""
        for path in (self.tree / "journal").rglob("*.md"):
            try:
                if token in path.read_text(errors="replace"):
                    return True
            except OSError:
                continue
        res = subprocess.run(
            ["git", "grep", "-q", "-F", token, "HEAD", "--", "journal"], cwd=self.tree
        )
        return res.returncode == 0

    def edit(self, op: int, token: str) -> None:
        """An uncommitted change: a new untracked file, or a line added to a committed one."""
        if self.committed and self.rng.random() < 0.5:
            rel = self.rng.choice(self.committed)
            with open(self.tree / rel, "a") as fh:
                fh.write(token + "\n")
            self.ledger.write(ev="written", op=op, token=token, kind="edit", path=rel)
        else:
            self.write(f"{self.name}/wip{op}.txt", token, op, "edit")

    def heartbeat(self, op: int, kill: str | None) -> None:
        self.run([GIT_WT, "heartbeat", self.name, "--json"], self.repo, op, kill)

    def release(self) -> None:
        state = self.rng.choice(["done", "handoff"])
        argv = [GIT_WT, "release", self.name, "--state", state, "--note", "harness", "--json"]
        for attempt in range(20):
            rc, _data = self.run(argv, self.repo, -2, draw=("random",))
            if rc == 0:
                self.ledger.write(ev="released", state=state)
                return
            time.sleep(0.2 * (attempt + 1))  # e.g. the harness corrupted our record for a while
        self.ledger.write(ev="release_failed")

    def write(self, rel: str, token: str, op: int, kind: str) -> None:
        path = self.tree / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(token + "\n")
        self.ledger.write(ev="written", op=op, token=token, kind=kind, path=rel)

    def report(self, op: int, token: str, rc: int, data: dict[str, Any]) -> None:
        if rc == 0 and data.get("outcome") in ("committed", "unchanged", "ok"):
            self.ledger.write(ev="committed", op=op, token=token, commit=data.get("commit"))
        else:
            self.ledger.write(
                ev="not_committed", op=op, token=token, rc=rc, error=data.get("error")
            )

    def main(self) -> None:
        self.alloc()
        for op, step in enumerate(self.plan):
            self.ledger.write(ev="op", op=op, kind=step["kind"], kill=step["kill"])
            token = step["token"]
            if step["kind"] == "commit":
                self.commit(op, token, step["kill"])
            elif step["kind"] == "journal":
                self.journal(op, token, step["kill"])
            elif step["kind"] == "edit":
                self.edit(op, token)
            else:
                self.heartbeat(op, step["kill"])
        self.release()
        self.ledger.write(ev="finished")


if __name__ == "__main__":
    Agent(Path(sys.argv[1]), int(sys.argv[2])).main()
