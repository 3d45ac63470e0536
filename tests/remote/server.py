"""A real git server for the tests: `git daemon` with receive-pack, on 127.0.0.1 only.

The port is picked at run time (bind to port 0, then hand it to the daemon; a lost race for the
port is retried). The daemon runs under `timeout`, so it stops on its own even if the test
process dies without reaching its teardown.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DRIVER = os.fspath(Path(__file__).with_name("driver.py"))
LIFETIME_SECONDS = 900  # the backstop: no test file runs this long
READY_ATTEMPTS = 200  # x 0.025 s: five seconds for the daemon to listen


@dataclass(frozen=True)
class Server:
    base: Path
    port: int

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def bare(self, name: str) -> Path:
        return self.base / name


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _start(base: Path, port: int) -> subprocess.Popen[bytes]:
    argv = [
        "timeout",
        "-s",
        "TERM",
        str(LIFETIME_SECONDS),
        "git",
        "daemon",
        "--reuseaddr",
        "--listen=127.0.0.1",
        f"--port={port}",
        f"--base-path={base}",
        "--export-all",
        "--enable=receive-pack",
        "--max-connections=64",
        "--timeout=60",
        os.fspath(base),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


@contextmanager
def git_daemon(base: Path) -> Iterator[Server]:
    """Serve every repository under `base` at git://127.0.0.1:PORT/NAME until the block ends."""
    base.mkdir(parents=True, exist_ok=True)
    for _ in range(5):
        port = _free_port()
        proc = _start(base, port)
        for _ in range(READY_ATTEMPTS):
            if proc.poll() is not None or _listening(port):
                break
            time.sleep(0.025)
        if proc.poll() is None and _listening(port):
            break
        proc.kill()
        proc.wait(timeout=10)
    else:
        raise RuntimeError("git daemon did not start on 127.0.0.1")
    try:
        yield Server(base, port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def make_bare(server: Server, name: str, seed: Path) -> str:
    """A bare repository `name` on the server holding `seed`'s main branch; its URL."""
    bare = server.bare(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(
        ["git", "init", "-q", "--bare", "--initial-branch=main", os.fspath(bare)],
        check=True,
        env=env,
    )
    subprocess.run(
        ["git", "push", "-q", os.fspath(bare), "main:refs/heads/main"],
        cwd=seed,
        check=True,
        env=env,
        capture_output=True,
    )
    return server.url(name)


def clone(url: str, dest: Path) -> Path:
    """A clone standing for one machine."""
    subprocess.run(["git", "clone", "-q", url, os.fspath(dest)], check=True, capture_output=True)
    return dest


def no_force_policy(bare: Path) -> None:
    """Make the server refuse every non-fast-forward and log every ref update, so a test can
    prove that nothing was force-pushed."""
    for key, value in (
        ("receive.denyNonFastForwards", "true"),
        ("core.logAllRefUpdates", "always"),
    ):
        subprocess.run(["git", "-C", os.fspath(bare), "config", key, value], check=True)


def ref_updates(bare: Path, ref: str) -> list[tuple[str, str]]:
    """(old, new) for every update of `ref` on the server, oldest first (its reflog)."""
    log = bare / "logs" / ref
    out = []
    for line in log.read_text().splitlines():
        old, new = line.split()[:2]
        out.append((old, new))
    return out


def driver(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `wt-commit --json` with the given options (--push, --fence, ...)."""
    wt_commit = os.fspath(Path(sys.executable).with_name("wt-commit"))
    return subprocess.run(
        [wt_commit, "--json", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def spawn_driver(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, DRIVER, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
