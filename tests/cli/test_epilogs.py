"""Every command's --help explains its columns, its states and its exit codes (cli/epilogs.py),
with the state words of the Enums the code uses and the codes of the one table (core/errors.py).

The truths the help is checked against are the code's: the Enums (listed here per command, so a
command that starts printing another kind of state must say so here too), the JSON schemas the
outputs are validated against, the header `git wt list` really prints, and docs/exit-codes.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

import click
import pytest
from conftest import git_wt, run_in_fresh_python

from worktree_tools.cli import build_group, epilogs
from worktree_tools.cli.commit import commit_cmd
from worktree_tools.cli.epilog_words import WORD_LISTS
from worktree_tools.cli.help import help_text
from worktree_tools.contract import schemas
from worktree_tools.core.errors import EXIT_CODES, MEANINGS, Outcome
from worktree_tools.env.trust import Trust
from worktree_tools.health.doctor import DoctorKind
from worktree_tools.health.findings import Change, Kind
from worktree_tools.hooks.install import HookAction
from worktree_tools.hooks.slots import SlotState
from worktree_tools.land.requests import State as LandState
from worktree_tools.remote.records import RemoteLeaseState
from worktree_tools.remote.sync import SyncState
from worktree_tools.tasks.model import TaskState
from worktree_tools.worktrees.gcaction import BranchAction, GcAction
from worktree_tools.worktrees.records import LeaseState, RecordState

DOCS = Path(__file__).resolve().parents[2] / "docs"

# Commands that print a table (or one line per item in fixed fields).
TABLES = [
    ("list",), ("status",), ("doctor",), ("hooks", "status"), ("task", "list"), ("land",),
    ("rescue", "list"), ("lease", "list"), ("watch",), ("log",), ("sync",),
]  # fmt: skip

# The Enums whose words each command prints.
STATES: dict[tuple[str, ...], list[type[Enum]]] = {
    ("list",): [LeaseState, RecordState],
    ("status",): [LeaseState, RecordState],
    ("alloc",): [LeaseState, RecordState],
    ("heartbeat",): [LeaseState, RecordState],
    ("show",): [LeaseState, RecordState],
    ("adopt",): [LeaseState, RecordState],
    ("release",): [RecordState],
    ("gc",): [GcAction, BranchAction],
    ("hooks", "status"): [SlotState],
    ("hooks", "install"): [HookAction],
    ("hooks", "uninstall"): [HookAction],
    ("doctor",): [DoctorKind],
    ("watch",): [Kind, Change],
    ("land",): [LandState],
    ("lease", "acquire"): [RemoteLeaseState],
    ("lease", "renew"): [RemoteLeaseState],
    ("lease", "release"): [RemoteLeaseState],
    ("lease", "list"): [RemoteLeaseState],
    ("sync",): [SyncState],
    ("task", "list"): [TaskState],
    ("task", "show"): [TaskState],
    ("trust",): [Trust],
}


def leaves(group: click.Group) -> Iterator[tuple[tuple[str, ...], str]]:
    """Each leaf command's words and --help, as `group` renders it."""
    for words in epilogs.leaf_paths(group):
        cmd: click.Command = group
        ctx = click.Context(group, info_name="git wt")
        for word in words:
            assert isinstance(cmd, click.Group)
            cmd = cmd.commands[word]
            ctx = click.Context(cmd, info_name=word, parent=ctx)
        yield words, cmd.get_help(ctx)


def section(text: str, title: str) -> list[str]:
    """The first words of the rows of section `title` ([] when the help has none)."""
    lines = text.splitlines()
    if f"{title}:" not in lines:
        return []
    rows = []
    for line in lines[lines.index(f"{title}:") + 1 :]:
        if not line.strip() or not line.startswith("  "):
            break
        if not line.startswith("   "):
            rows.append(line.strip())
    return rows


def epilog_words(text: str) -> set[str]:
    """The first word of every row of every section after Options (the epilog's sections)."""
    titles = [line[:-1] for line in text.split("\nOptions:\n")[-1].splitlines()
              if line.endswith(":") and not line.startswith(" ")]  # fmt: skip
    return {row.split()[0] for title in titles for row in section(text, title)}


def problems(group: click.Group) -> list[str]:
    """What is missing from the help of the commands of `group`."""
    out = []
    outcomes = {o.value for o in Outcome} | {"setup_failed", "other"}
    for words, text in leaves(group):
        name = " ".join(words)
        rows = section(text, "Exit codes")
        codes = {int(r.split()[0]) for r in rows if r[0].isdigit()}
        if not rows:
            out.append(f"{name}: no Exit codes section")
        elif 0 not in codes or not codes <= set(EXIT_CODES.values()):
            out.append(f"{name}: exit codes {sorted(codes)}")
        out += [f"{name}: unknown outcome in {r!r}" for r in rows
                if r.split()[1 if r[0].isdigit() else 0].rstrip(",") not in outcomes]  # fmt: skip
        for code in map(int, re.findall(r"\b[Ee]xit (\d)\b", text.split("Exit codes:")[0])):
            if code not in codes:
                out.append(f"{name}: its text names exit {code}, its Exit codes do not")
        if words in TABLES and not section(text, "Columns"):
            out.append(f"{name}: prints a table, has no Columns section")
        listed = epilog_words(text)
        wanted = {str(m.value) for enum in STATES.get(words, []) for m in enum}
        out += [f"{name}: state {w!r} not in its help" for w in sorted(wanted - listed)]
    return out


def test_every_leaf_command_explains_its_columns_states_and_exit_codes() -> None:
    group = build_group()
    assert len(epilogs.leaf_paths(group)) >= 50
    assert problems(group) == []


def test_a_command_without_its_epilog_fails_the_check() -> None:
    group = build_group()
    victims = [group.commands["list"], group.commands["gc"]]
    try:
        for cmd in victims:
            del cmd.format_epilog  # back to click's own: no columns, states, exit codes
        found = problems(group)
    finally:
        epilogs.attach(group)
    assert "list: no Exit codes section" in found
    assert "list: prints a table, has no Columns section" in found
    assert "list: state 'owner_dead' not in its help" in found
    assert "gc: state 'would_remove' not in its help" in found
    assert problems(group) == []


def test_every_word_list_gives_every_member_a_meaning() -> None:
    for key, make in WORD_LISTS.items():
        listing = make()
        if listing.enum is not None:
            assert set(listing.meanings) == set(listing.enum), key
        assert all(meaning.strip() for _, meaning in listing.rows()), key


def _enum_values(node: object, key: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "enum" and key != "outcome" and isinstance(v, list):
                yield from (x for x in v if isinstance(x, str))
            else:
                yield from _enum_values(v, k if k not in ("anyOf", "oneOf") else key)
    elif isinstance(node, list):
        for item in node:
            yield from _enum_values(item, key)


def test_every_state_word_of_a_commands_json_schema_is_in_its_help() -> None:
    commands = set(epilogs.leaf_paths(build_group()))
    checked = 0
    for name in schemas.NAMES:
        words = tuple(name.split())
        if name not in schemas.COMMANDS or words not in commands:
            continue
        text = help_text(words)
        listed = epilog_words(text)
        missing = set(_enum_values(schemas.schema(name))) - listed
        assert not missing, f"git wt {name} --help lacks {sorted(missing)}"
        checked += 1
    assert checked >= 10


def test_list_columns_are_the_columns_list_prints(repo: Path) -> None:
    assert git_wt(repo, "alloc", "ana").returncode == 0
    header = git_wt(repo, "list").stdout.splitlines()[0].split()
    assert (
        section(help_text(("list",)), "Columns")
        and [r.split()[0] for r in section(help_text(("list",)), "Columns")] == header
    )


def test_exit_code_table_in_docs_matches_the_code() -> None:
    rows = {
        int(m.group(1)): m.group(2)
        for m in re.finditer(r"^\| (\d) \| (.*)$", (DOCS / "exit-codes.md").read_text(), re.M)
    }
    assert sorted(rows) == sorted(MEANINGS) == sorted(set(EXIT_CODES.values()))
    for outcome, code in EXIT_CODES.items():
        assert f"`{outcome.value}`" in rows[code], (outcome, code)


def test_git_wt_help_shows_the_whole_table() -> None:
    rows = section(help_text(()), "Exit codes")
    assert [int(r.split()[0]) for r in rows] == sorted(MEANINGS)


@pytest.mark.parametrize("argv", [["wt-commit", "--help"], ["git-wt", "commit", "--help"]])
def test_wt_commit_help_has_its_exit_codes(repo: Path, argv: list[str]) -> None:
    proc = subprocess.run(argv, cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    codes = {int(r.split()[0]) for r in section(proc.stdout, "Exit codes") if r[0].isdigit()}
    assert codes == {0, 1, 2, 3, 4, 5, 6}
    assert (
        commit_cmd.get_help(click.Context(commit_cmd, info_name="wt-commit")).count("Exit codes:")
        == 1
    )


def test_the_hot_path_loads_no_epilog(repo: Path) -> None:
    (repo / "a.txt").write_text("a\n")
    report = "sorted(m for m in sys.modules if 'epilog' in m or m == 'click')"
    proc = run_in_fresh_python(
        repo, "wt_commit_main", [["wt-commit", "-nm", "x", "--", "a.txt"]], report
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_building_the_command_tree_renders_no_epilog() -> None:
    """Every `git wt` run builds the tree; only help imports the table and the Enums' modules."""
    code = (
        "import sys\n"
        "from worktree_tools.cli import build_group\n"
        "build_group()\n"
        "print(sorted(m for m in sys.modules if m.endswith(('epilog_specs', 'epilog_words'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_git_wt_help_list_shows_columns_states_and_exit_codes(repo: Path) -> None:
    proc = git_wt(repo, "help", "list")
    assert proc.returncode == 0, proc.stderr
    assert [r.split()[0] for r in section(proc.stdout, "Columns")][:2] == ["AGENT", "LEASE"]
    assert "owner_dead" in epilog_words(proc.stdout)
    assert "3 lock_timeout" in "\n".join(section(proc.stdout, "Exit codes"))
