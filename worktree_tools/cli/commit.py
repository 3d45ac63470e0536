"""`wt-commit` / `git wt commit`: the click command, built from cli/commit_args.OPTIONS (the one
definition of the options, shared with wt-commit's lean parser) and running cli/commit_exec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from worktree_tools.cli._common import Number, timeout_option
from worktree_tools.cli.commit_args import OPTIONS, Kind, Opt


def _refuse(message: str) -> Callable[[click.Context, click.Parameter, bool], bool]:
    def callback(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        if value:
            raise click.UsageError(message)
        return value

    return callback


def _option(opt: Opt) -> Callable[[Any], Any]:
    kw: dict[str, Any] = {"help": opt.help, "hidden": opt.hidden}
    if opt.metavar:
        kw["metavar"] = opt.metavar
    if opt.show_default is not None:
        kw["show_default"] = opt.show_default
    if opt.kind is Kind.FLAG:
        kw["is_flag"] = True
    elif opt.kind is Kind.MULTIPLE:
        kw["multiple"] = True
    elif opt.kind is Kind.CHOICE:
        kw["type"] = click.Choice(list(opt.choices))
    elif opt.kind is Kind.NUMBER:
        kw["type"] = Number(opt.number, lo=0, hi=opt.hi, unit=opt.unit)
        kw["default"] = opt.default
        if opt.dest == "lock_timeout":
            kw["callback"] = timeout_option
    elif opt.kind is Kind.REFUSE:
        kw.update(is_flag=True, callback=_refuse(opt.help), expose_value=False, help=None)
    return click.option(*opt.decls, opt.dest, **kw)


def _build() -> click.Command:
    def commit_cmd(**values: Any) -> int:
        """Commit exactly PATHS from this worktree onto its branch, and nothing else.

        \b
        wt-commit -m "fix parser" -- src/parser.py tests/test_parser.py
        """
        from worktree_tools.cli.commit_exec import execute

        return execute(values)

    fn: Any = click.argument("paths", nargs=-1, type=click.UNPROCESSED)(commit_cmd)
    for opt in reversed(OPTIONS):
        fn = _option(opt)(fn)
    command: click.Command = click.command(
        "commit", context_settings={"help_option_names": ["-h", "--help"]}
    )(fn)
    return command


commit_cmd = _build()
