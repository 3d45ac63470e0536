"""`git wt help [COMMAND]` and the manual page: the same text as each command's `--help`.

`git wt --help` is answered by git itself with `man git-wt`; the package installs that page
(rendered by `python -m worktree_tools.cli.help --write`, checked current by the tests).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

PAGES = Path(__file__).resolve().parents[2] / "man"


def _walk(group: click.Group, ctx: click.Context) -> list[tuple[str, click.Command, click.Context]]:
    out = []
    for name in sorted(group.commands):
        cmd = group.commands[name]
        sub = click.Context(cmd, info_name=name, parent=ctx)
        out.append((sub.command_path, cmd, sub))
        if isinstance(cmd, click.Group):
            out += _walk(cmd, sub)
    return out


def help_text(words: tuple[str, ...]) -> str:
    """The `--help` of `git wt WORDS...`, or of the whole tool for no words."""
    from worktree_tools.cli import build_group
    from worktree_tools.core.errors import InvalidInput

    cmd: click.Command = build_group()
    ctx = click.Context(cmd, info_name="git wt")
    for word in words:
        if not isinstance(cmd, click.Group) or word not in cmd.commands:
            raise InvalidInput(
                f"no command {' '.join(words)!r}", fix="git wt help  # lists every command"
            )
        cmd = cmd.commands[word]
        ctx = click.Context(cmd, info_name=word, parent=ctx)
    return cmd.get_help(ctx)


@click.command("help")
@click.argument("words", nargs=-1)
def help_cmd(words: tuple[str, ...]) -> int:
    """Show the help of a command: `git wt help gc`, `git wt help hooks install`."""
    from worktree_tools.cli._common import run_guarded

    def body() -> int:
        click.echo(help_text(words))
        return 0

    return run_guarded("git wt help", False, body)


def _roff(text: str) -> str:
    lines = []
    for line in text.splitlines():
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def manual(name: str) -> str:
    """The man page: every command's --help, in order, as preformatted text."""
    from worktree_tools.cli import build_group
    from worktree_tools.cli.commit import commit_cmd
    from worktree_tools.cli.epilogs import attach

    if name == "wt-commit":
        attach(commit_cmd, ("commit",))
        body = commit_cmd.get_help(click.Context(commit_cmd, info_name="wt-commit"))
        summary = "commit exactly the named paths, safely beside other agents"
    else:
        group = build_group()
        root = click.Context(group, info_name="git wt")
        parts = [group.get_help(root)]
        parts += [f"{path}\n\n{cmd.get_help(ctx)}" for path, cmd, ctx in _walk(group, root)]
        body = "\n\n".join(parts)
        summary = "many agents, one repository, nobody's work lost"
    return (
        f'.TH {name.upper()} 1 "" "worktree-tools" "worktree-tools manual"\n'
        f".SH NAME\n{name} \\- {summary}\n.SH DESCRIPTION\n.nf\n{_roff(body)}\n.fi\n"
        ".SH SEE ALSO\nThe docs/ pages of worktree-tools; docs/exit-codes.md for the exit codes.\n"
    )


def main(argv: list[str]) -> int:
    """`--write` renders man/git-wt.1 and man/wt-commit.1; otherwise exit 1 when stale."""
    from worktree_tools.contract.generated import write_or_check

    rendered = {PAGES / f"{name}.1": manual(name) for name in ("git-wt", "wt-commit")}
    return write_or_check(rendered, argv, "worktree_tools.cli.help")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
