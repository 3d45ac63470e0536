"""What each command's `--help` says after its options: its columns, its states and its exit codes.

The table is cli/epilog_specs.SPECS, keyed by the command's words after `git wt`. State words
come from the Enums the code uses (cli/epilog_words.py); exit-code lines from the one table in
core/errors.py (EXIT_CODES: an outcome's code, MEANINGS: a code's line), so neither is written
twice. `attach` hangs them on the click tree in one place (build_group, and wt-commit's click
fallback); the text is built only when help is shown, so no other run imports the modules that
own the Enums.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from worktree_tools.core.errors import EXIT_CODES, MEANINGS

if TYPE_CHECKING:  # the table is imported when help is shown, not by every run's build_group
    from worktree_tools.cli.epilog_types import Exit, Spec


def _word(e: Exit) -> str:
    return e.word or e.outcome.value


def exit_rows(spec: Spec) -> list[tuple[str, str]]:
    """`CODE outcome` and when, code by code; 0 (ok), 1 and 2 always: any run can succeed, meet
    an unexpected failure or be mis-typed."""
    from worktree_tools.cli.epilog_types import Exit, Out

    exits = list(spec.exits)
    given = {EXIT_CODES[e.outcome] for e in exits if e.outcome is not Out.UNCHANGED}
    exits = [
        Exit(o) for o in (Out.OK, Out.ERROR, Out.INVALID) if EXIT_CODES[o] not in given
    ] + exits
    rows: list[tuple[str, str]] = []
    for code in sorted({EXIT_CODES[e.outcome] for e in exits}):
        these = [e for e in exits if EXIT_CODES[e.outcome] == code]
        if not any(e.note for e in these):
            words = ", ".join(dict.fromkeys(_word(e) for e in these))
            rows.append((f"{code} {words}", MEANINGS[code]))
            continue
        for word in dict.fromkeys(_word(e) for e in these):
            notes = [e.note for e in these if _word(e) == word and e.note]
            rows.append((f"{code} {word}", "; ".join(notes) or MEANINGS[code]))
    if spec.other_exit:
        rows.append(("other", spec.other_exit))
    return rows


def sections(words: tuple[str, ...]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The epilog of `git wt WORDS...` as (title, rows) sections; [] for a command with none."""
    from worktree_tools.cli.epilog_specs import SPECS
    from worktree_tools.cli.epilog_words import WORD_LISTS

    if not words:  # the whole tool: the one table
        return [("Exit codes", [(f"{c} {_codes_words(c)}", MEANINGS[c]) for c in MEANINGS])]
    spec = SPECS.get(words)
    if spec is None:
        return []
    out: list[tuple[str, list[tuple[str, str]]]] = []
    if spec.columns:
        out.append(("Columns", list(spec.columns)))
    for key in spec.states:
        listing = WORD_LISTS[key]()
        out.append((listing.title, listing.rows()))
    out.append(("Exit codes", exit_rows(spec)))
    return out


def _codes_words(code: int) -> str:
    return ", ".join(o.value for o, c in EXIT_CODES.items() if c == code)


def _formatter(cmd: click.Command, words: tuple[str, ...]) -> Callable[..., None]:
    def format_epilog(ctx: click.Context, formatter: click.HelpFormatter) -> None:
        type(cmd).format_epilog(cmd, ctx, formatter)  # the command's own epilog, if any
        for title, rows in sections(words):
            with formatter.section(title):
                formatter.write_dl(rows)

    return format_epilog


def attach(cmd: click.Command, words: tuple[str, ...] = ()) -> None:
    """Hang the epilog of `git wt WORDS...` on `cmd`, and of its subcommands on them; again is
    harmless (each command keeps one)."""
    cmd.format_epilog = _formatter(cmd, words)  # type: ignore[method-assign]
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            attach(sub, (*words, name))


def leaf_paths(group: Any) -> list[tuple[str, ...]]:
    """Every leaf command's words under `group` (hidden ones too)."""
    out: list[tuple[str, ...]] = []
    for name, sub in group.commands.items():
        if isinstance(sub, click.Group):
            out += [(name, *rest) for rest in leaf_paths(sub)]
        else:
            out.append((name,))
    return out
