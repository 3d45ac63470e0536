"""`git wt task next|claim` read without click (cli/task_lean.parse) and the click commands read
every command line alike: whatever the lean reader accepts, click accepts with the same values;
everything else goes to click (parse returns None)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from conftest import git_wt, run_in_fresh_python
from hypothesis import given, settings
from hypothesis import strategies as st

from worktree_tools.cli.task_claims import claim_cmd, next_cmd
from worktree_tools.cli.task_lean import parse

TOKENS = ["next", "claim", "--agent", "--agent=a2", "--agent=", "a1", "--remote", "--remote=o",
          "origin", "--json", "--json=1", "T1", "T2", "--", "-", "", "-x", "--ttl", "60",
          "--owner-pid", "0", "--alloc", "--lock-timeout", "--help", "-h", "--age"]  # fmt: skip
COMMANDS = {"next": next_cmd, "claim": claim_cmd}


def click_values(argv: list[str]) -> dict[str, Any] | None:
    """What click passes to the command, or None when it refuses or shows help."""
    if not argv or argv[0] not in COMMANDS:
        return None
    try:
        ctx = COMMANDS[argv[0]].make_context(argv[0], list(argv[1:]), resilient_parsing=False)
    except (click.ClickException, click.exceptions.Exit):
        return None
    return dict(ctx.params)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=7))
def test_lean_reader_agrees_with_click(argv: list[str]) -> None:
    lean = parse(argv)
    if lean is None:
        return  # click reads it: its values, its messages, its exit codes
    name, values = lean
    expected = click_values(argv)
    assert expected is not None, f"the lean reader accepted what click refuses: {argv}"
    assert name == argv[0]
    defaults = {"owner_pid": None, "ttl": None, "alloc": False, "lock_timeout": 30.0}
    assert {**values, **defaults} == expected, argv


def test_what_click_must_read() -> None:
    for argv in (["next", "--help"], ["next", "-h"], ["claim"], ["claim", "T1", "T2"],
                 ["next", "T1"], ["next", "--ttl", "60"], ["claim", "T1", "--alloc"],
                 ["next", "--agent", "a", "--agent", "b"], ["next", "--agent"],
                 ["claim", "--", "T1"], ["next", "--json=1"], ["list"]):  # fmt: skip
        assert parse(argv) is None, argv
    assert parse(["claim", "--json", "T1", "--agent=a"]) == (
        "claim",
        {"agent": "a", "remote": None, "as_json": True, "task_id": "T1"},
    )


def test_next_and_claim_import_no_click(repo: Path) -> None:
    """Fails on the code before, which read every task command with click."""
    git_wt(repo, "task", "add", "one", "--agent", "a1")
    git_wt(repo, "task", "add", "two", "--agent", "a1")
    argvs = [["git-wt", "task", "next", "--agent", "a1", "--json"],
             ["git-wt", "task", "claim", "T2", "--agent", "a2"]]  # fmt: skip
    proc = run_in_fresh_python(repo, "git_wt_main", argvs, "'click' in sys.modules")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"
    assert json.loads(proc.stdout.splitlines()[0])["task_id"] == "T1"


def test_a_refusal_reads_the_same_both_ways(repo: Path) -> None:
    git_wt(repo, "task", "add", "one", "--agent", "a1")
    assert git_wt(repo, "task", "claim", "T1", "--agent", "a1").returncode == 0
    lean = git_wt(repo, "task", "claim", "T1", "--agent", "a2", "--json")
    # A repeated option goes to click (last one wins there): the same command, read by click.
    by_click = git_wt(repo, "task", "claim", "T1", "--agent", "x", "--agent", "a2", "--json")
    assert lean.returncode == by_click.returncode == 6
    one, two = json.loads(lean.stdout), json.loads(by_click.stdout)
    assert one.keys() == two.keys() and one["holder"] == two["holder"] == "a1"
    assert {k: v for k, v in one.items() if k != "error"} == {
        k: v for k, v in two.items() if k != "error"
    }
    assert lean.stderr.splitlines()[-1] == by_click.stderr.splitlines()[-1]  # the fix line


# What the modules of `next`/`claim` may import when they load (docs/hot-path.md): the free
# modules and project modules.
LEAN_AT_IMPORT = {"__future__", "os", "sys", "stat", "time", "errno", "fcntl", "io", "select"}


def test_next_and_claim_load_task_modules_that_import_only_lean_modules(repo: Path) -> None:
    """Every task module `next` and `claim` load imports, at module level, only free modules
    and project modules; the rest inside the functions that use them. Fails on the code
    before (dataclasses, typing, contextlib, hashlib, random, pathlib at import)."""
    import ast
    import importlib.util

    git_wt(repo, "task", "add", "one", "--agent", "a1")
    argvs = [["git-wt", "task", "next", "--agent", "a1", "--json"]]
    ours = ("worktree_tools.tasks", "worktree_tools.cli.task")
    report = f"sorted(m for m in sys.modules if m.startswith({ours!r}))"
    proc = run_in_fresh_python(repo, "git_wt_main", argvs, report)
    assert proc.returncode == 0, proc.stderr
    loaded = ast.literal_eval(proc.stdout.strip().splitlines()[-1])
    assert "worktree_tools.tasks.claiming" in loaded, loaded
    found = {}
    for name in loaded:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        tree = ast.parse(Path(spec.origin).read_text())
        heavy = set()
        for node in tree.body:  # module level only: `if TYPE_CHECKING:` blocks are not run
            if isinstance(node, ast.Import):
                heavy |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                heavy.add(node.module.split(".")[0])
        heavy -= LEAN_AT_IMPORT | {"worktree_tools"}
        if heavy:
            found[name] = sorted(heavy)
    assert found == {}
