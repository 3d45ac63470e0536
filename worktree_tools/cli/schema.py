"""`git wt schema [COMMAND]`: the JSON Schema of a command's `--json` output."""

from __future__ import annotations

import click

from worktree_tools.cli._common import run_guarded


@click.command("schema")
@click.argument("command", nargs=-1)
@click.option("--list", "list_all", is_flag=True, help="List the commands that have a schema.")
def schema_cmd(command: tuple[str, ...], list_all: bool) -> int:
    """Print the JSON Schema (draft 2020-12) of COMMAND's --json output, e.g.
    `git wt schema hooks install`. Every object has `schema_version`; see docs/json.md."""

    def body() -> int:
        from worktree_tools.contract import schemas
        from worktree_tools.core.errors import InvalidInput

        name = " ".join(command)
        if list_all or not name:
            click.echo("\n".join(schemas.NAMES))
            return 0
        if name not in schemas.NAMES:
            raise InvalidInput(
                f"no schema for {name!r}", fix="git wt schema --list  # the commands that have one"
            )
        click.echo(schemas.render(name), nl=False)
        return 0

    return run_guarded("git wt schema", False, body)
