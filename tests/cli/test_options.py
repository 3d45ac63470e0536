"""Every option refuses what it cannot mean: every numeric option shares one click type that
refuses NaN, infinity, negative numbers and anything over its documented maximum (exit 2,
one JSON object, nothing changed); an empty --agent is refused; --json output is valid UTF-8
JSON even for file names that are not."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from conftest import GIT_WT, WT_COMMIT, git, snapshot, write, wt_commit

from worktree_tools.cli import build_group
from worktree_tools.cli._common import Number

# Arguments that let each command reach option parsing (a required argument or option).
NEEDS = {
    ("lease", "acquire"): ["L", "--ttl", "60"],
    ("lease", "renew"): ["L"],
    ("lease", "release"): ["L"],
    ("alloc",): ["ana"],
    ("adopt",): ["ana"],
    ("heartbeat",): ["ana"],
    ("hooks", "run"): ["--hooks-dir", "/nonexistent", "pre-commit"],
}


def _numeric_options() -> Iterator[tuple[tuple[str, ...], click.Option]]:
    def walk(
        cmd: click.Command, path: tuple[str, ...]
    ) -> Iterator[tuple[tuple[str, ...], click.Option]]:
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from walk(sub, (*path, name))
            return
        for param in cmd.params:
            if (
                isinstance(param, click.Option)
                and not param.is_flag
                and param.type.name
                in ("integer", "float", "number", "integer range", "float range")
            ):
                yield path, param

    yield from walk(build_group(), ())


OPTIONS = list(_numeric_options())


def test_every_numeric_option_uses_the_shared_type() -> None:
    assert len(OPTIONS) >= 12
    plain = [(p, o.opts[0]) for p, o in OPTIONS if not isinstance(o.type, Number)]
    assert plain == [], "numeric options not using cli._common.Number"


@pytest.mark.parametrize(
    ("path", "opt"),
    [pytest.param(p, o.opts[0], id=" ".join((*p, o.opts[0]))) for p, o in OPTIONS],
)
def test_every_numeric_option_refuses_nan_inf_and_negative(
    repo: Path, path: tuple[str, ...], opt: str
) -> None:
    before = snapshot(repo)
    cmd: click.Command = build_group()
    for word in path:
        assert isinstance(cmd, click.Group)
        cmd = cmd.commands[word]
    as_json = any("--json" in p.opts for p in cmd.params)  # a hook entry point has none
    for bad in ("nan", "inf", "-inf", "-1", "1e400", "NaN"):
        argv = [*path, *NEEDS.get(path, []), f"{opt}={bad}", *(["--json"] if as_json else [])]
        proc = subprocess.run(
            [GIT_WT, *argv], cwd=repo, capture_output=True, text=True, env=os.environ
        )
        assert proc.returncode == 2, (argv, proc.stdout, proc.stderr)
        if as_json:
            out = json.loads(proc.stdout)
            assert out["outcome"] == "invalid" and opt in out["error"], out
        else:
            assert "invalid" in proc.stderr and opt in proc.stderr, proc.stderr
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["alloc", "ana", "--ttl", str(7 * 24 * 3600 + 1)], "--ttl"),
        (["lease", "acquire", "L", "--ttl", str(7 * 24 * 3600 + 1)], "--ttl"),
        (["alloc", "ana", "--owner-pid", str(2**31)], "--owner-pid"),
        (["lease", "renew", "L", "--token", "0"], "--token"),
        (["watch", "--once", "--interval", "0.01"], "--interval"),
    ],
)
def test_values_over_the_maximum_or_under_the_minimum_are_refused(
    repo: Path, argv: list[str], what: str
) -> None:
    proc = subprocess.run([GIT_WT, *argv, "--json"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 2 and what in json.loads(proc.stdout)["error"]


def test_wt_commit_lock_timeout_nan_and_env_nan(repo: Path) -> None:
    write(repo, "README", "x\n")
    for argv, env in [(["--lock-timeout", "nan"], {}), ([], {"WT_LOCK_TIMEOUT": "inf"})]:
        proc = wt_commit(repo, "--json", *argv, "-m", "m", "--", "README", env=env)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr


def test_a_nan_lease_ttl_setting_is_refused(repo: Path) -> None:
    git(repo, "config", "wt.leaseTtl", "nan")
    proc = subprocess.run(
        [GIT_WT, "alloc", "ana", "--json"], cwd=repo, capture_output=True, text=True
    )
    assert proc.returncode == 2 and "wt.leaseTtl" in json.loads(proc.stdout)["error"]
    assert not (repo / ".git" / "wt" / "worktrees" / "ana").exists()


@pytest.mark.parametrize(
    "argv",
    [
        [WT_COMMIT, "--json", "--agent", "", "-m", "m", "--", "README"],
        [GIT_WT, "lease", "acquire", "L", "--json", "--ttl", "60", "--agent", ""],
        [GIT_WT, "journal", "append", "--json", "--agent", "", "text"],
    ],
    ids=["wt-commit", "lease", "journal-append"],
)
def test_an_empty_agent_is_refused_not_the_fallback(repo: Path, argv: list[str]) -> None:
    write(repo, "README", "x\n")
    before = snapshot(repo)
    proc = subprocess.run(argv, cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 2 and "agent name ''" in json.loads(proc.stdout)["error"]
    assert snapshot(repo) == before


def test_json_output_is_valid_utf8_for_a_file_name_that_is_not(repo: Path) -> None:
    name = b"caf\xe9.txt"  # Latin-1, not UTF-8
    (repo / os.fsdecode(name)).write_bytes(b"x\n")
    proc = subprocess.run(
        [WT_COMMIT, "--json", "-m", "m", "--", os.fsdecode(name)], cwd=repo, capture_output=True
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.decode("utf-8"))  # strict: raises on a raw \xe9
    assert out["paths"] == ["caf\\xe9.txt"]
    refused = subprocess.run(
        [WT_COMMIT, "--json", "-m", "m", "--", os.fsdecode(b"gone-\xff")],
        cwd=repo, capture_output=True,
    )  # fmt: skip
    assert refused.returncode != 0
    json.loads(refused.stdout.decode("utf-8"))
    refused.stderr.decode("utf-8")
