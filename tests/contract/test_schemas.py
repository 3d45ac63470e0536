"""The JSON contract: shipped schemas are current, every command has one, and each is a valid
draft 2020-12 schema that accepts what the command prints and refuses what it must not."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import git_wt, write, wt_commit

from worktree_tools.cli import build_group
from worktree_tools.contract import schemas


def test_shipped_files_match_the_definitions() -> None:
    assert schemas.main([]) == 0, "run: python -m worktree_tools.contract.schemas --write"


def command_names() -> list[str]:
    import click

    names = []
    for name, cmd in build_group().commands.items():
        if isinstance(cmd, click.Group):
            names += [f"{name} {sub}" for sub in cmd.commands]
        else:
            names.append(name)
    return names


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_a_valid_schema(name: str) -> None:
    if name in {"hooks run", "help"}:  # a hook run prints the hook's output; help prints text
        return
    if name in {"guard hook", "agent hook", "mcp"}:  # git's / a harness's protocol; a server
        return
    assert name in schemas.COMMANDS, f"add a schema for `git wt {name}` in contract/schemas.py"
    jsonschema.Draft202012Validator.check_schema(schemas.schema(name))


def test_schema_command_prints_the_shipped_file(repo: Path) -> None:
    proc = git_wt(repo, "schema", "hooks", "install")
    assert proc.returncode == 0
    assert proc.stdout == schemas.shipped_path("hooks install").read_text()
    bad = git_wt(repo, "schema", "nonsense")
    assert bad.returncode == 2 and "git wt schema --list" in bad.stderr


def test_failure_objects_must_carry_exit_code(repo: Path) -> None:
    proc = wt_commit(repo, "--json", "-m", "x", "--", "no-such-file")
    payload = json.loads(proc.stdout)
    assert payload["schema_version"] == 1 and payload["exit_code"] == proc.returncode == 2
    assert "error" in payload and "fix" in payload
    del payload["exit_code"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, schemas.schema("commit"))


def test_success_objects_must_carry_the_command_keys(repo: Path) -> None:
    write(repo, "a.txt", "a\n")
    payload = json.loads(wt_commit(repo, "--json", "-m", "x", "--", "a.txt").stdout)
    assert payload["outcome"] == "committed" and "exit_code" not in payload
    jsonschema.validate(payload, schemas.schema("commit"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {k: v for k, v in payload.items() if k != "paths"}, schemas.schema("commit")
        )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**payload, "schema_version": 2}, schemas.schema("commit"))


def test_empty_log_is_one_object(repo: Path) -> None:
    proc = git_wt(repo, "log", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["events"] == []
