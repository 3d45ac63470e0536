"""The shapes of the `--help` epilog table (cli/epilog_specs.py): what a command prints and how
it can end."""

from __future__ import annotations

from dataclasses import dataclass

from worktree_tools.core.errors import Outcome

Out = Outcome


@dataclass(frozen=True)
class Exit:
    """One outcome a command can end with; `note` says when (default: the code's table line);
    `word` is the outcome as the command prints it when that is not the Outcome's own word."""

    outcome: Outcome
    note: str = ""
    word: str | None = None


@dataclass(frozen=True)
class Spec:
    columns: tuple[tuple[str, str], ...] = ()
    states: tuple[str, ...] = ()  # keys of epilog_words.WORD_LISTS
    exits: tuple[Exit, ...] = ()
    other_exit: str = ""  # exit codes outside the table (a chained hook's own)
