"""The options of `wt-commit` / `git wt commit`, defined once, and wt-commit's lean parser.

OPTIONS is the one definition: cli/commit.py builds the click command from it (help, man page,
`git wt commit`), and `parse` reads a command line with it without importing click. `parse`
handles only a command line click would accept; anything else (--help, an unknown option, a bad
value, a missing one) returns None and the caller hands the same argv to the click command, so
help and every usage error (exit 2, one JSON object under --json) come from click, word for word.
"""

from __future__ import annotations

from worktree_tools.core.fields import MAX_INT, MAX_WAIT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


class Kind:
    """How an option takes its value (Opt.kind): one of these words. Plain str constants, not
    an Enum: this module is on wt-commit's hot path (issue 17)."""

    FLAG = "flag"
    VALUE = "value"
    MULTIPLE = "multiple"  # repeatable; a tuple of values
    CHOICE = "choice"
    NUMBER = "number"  # a finite number in 0..hi (float or int)
    REFUSE = "refuse"  # accepted by click only to refuse it with a usage error


class Opt:
    """One option: its spellings, the name of its value, its kind, and what click shows."""

    __slots__ = (
        "choices", "decls", "default", "dest", "help", "hi", "hidden", "kind", "metavar",
        "number", "show_default", "unit",
    )  # fmt: skip

    def __init__(
        self,
        decls: tuple[str, ...],
        dest: str,
        kind: str,
        help: str = "",
        default: Any = None,
        choices: tuple[str, ...] = (),
        number: type[int] | type[float] = float,
        hi: float = MAX_WAIT,
        unit: str = "seconds",
        metavar: str | None = None,
        show_default: str | bool | None = None,
        hidden: bool = False,
    ) -> None:
        self.decls = decls
        self.dest = dest
        self.kind = kind
        self.help = help
        self.default = default
        self.choices = choices
        self.number = number
        self.hi = hi
        self.unit = unit
        self.metavar = metavar
        self.show_default = show_default
        self.hidden = hidden


WHOLE_TREE_REFUSAL = (
    "wt-commit never commits everything: name the paths (`-- PATH...`); "
    "to commit the whole worktree on purpose use --commit-whole-tree"
)

OPTIONS: tuple[Opt, ...] = (
    Opt(("-m", "--message"), "messages", Kind.MULTIPLE, "Message (repeat for paragraphs).", ()),
    Opt(("-F", "--file"), "message_file", Kind.VALUE, "Read the message from FILE ('-': stdin)."),
    Opt(("--json",), "as_json", Kind.FLAG, "Print one JSON object.", False),
    Opt(
        ("--lock-timeout",),
        "lock_timeout",
        Kind.NUMBER,
        "Seconds to wait for the locks.",
        show_default="30, or $WT_LOCK_TIMEOUT",
    ),
    Opt(
        ("--agent",),
        "agent",
        Kind.VALUE,
        "Acting agent (default: $WT_AGENT, the worktree's owner, user@host).",
    ),
    Opt(
        ("-n", "--no-verify"),
        "no_verify",
        Kind.FLAG,
        "Skip the pre-commit and commit-msg hooks.",
        False,
    ),
    Opt(("-S", "--gpg-sign"), "gpg_sign", Kind.FLAG, "Sign the commit.", False),
    Opt(("--gpg-key",), "gpg_key", Kind.VALUE, "Sign with this key (implies --gpg-sign)."),
    Opt(
        ("--no-gpg-sign",),
        "no_gpg_sign",
        Kind.FLAG,
        "Do not sign, whatever commit.gpgSign says.",
        False,
    ),
    Opt(
        ("--hooks",),
        "hooks_mode",
        Kind.CHOICE,
        "Where hooks run: an isolated checkout, or in place (default auto: in place only in "
        "a worktree the agent owns; config wt.hooks).",
        choices=("auto", "isolated", "in-place"),
    ),
    Opt(
        ("--revalidate",),
        "revalidate",
        Kind.FLAG,
        "When the branch moved during hooks, re-run pre-commit on the replayed commit.",
        False,
    ),
    Opt(
        ("--commit-whole-tree",),
        "commit_whole_tree",
        Kind.FLAG,
        "Allow a path that names the whole worktree ('.'). Off by default, on purpose.",
        False,
    ),
    Opt(("-a", "--all"), "all_", Kind.REFUSE, WHOLE_TREE_REFUSAL, hidden=True),
    Opt(
        ("--push",),
        "push",
        Kind.FLAG,
        "Then push to the remote branch of the same name (never forced; replayed onto a moved "
        "remote when none of its paths changed there).",
        False,
    ),
    Opt(
        ("--remote",),
        "remote",
        Kind.VALUE,
        "Remote for --push and --fence (default: the branch's, or origin).",
    ),
    Opt(
        ("--retries",),
        "retries",
        Kind.NUMBER,
        "With --push: how many times to fetch, replay and push again.",
        30,
        number=int,
        hi=MAX_INT,
        unit="a count",
        show_default=True,
    ),
    Opt(
        ("--fence",),
        "fence",
        Kind.VALUE,
        "Refuse unless TOKEN is lease NAME's current fencing token.",
        metavar="NAME:TOKEN",
    ),
)
HELP = ("-h", "--help")

_BY_NAME = {decl: opt for opt in OPTIONS for decl in opt.decls}


def parse(argv: Sequence[str]) -> dict[str, Any] | None:
    """The values click would pass to the command for `argv` (option dests plus `paths`), or
    None when click must see it (help, or anything it would refuse)."""
    values: dict[str, Any] = {o.dest: o.default for o in OPTIONS if o.kind != Kind.REFUSE}
    multiple: dict[str, list[str]] = {}
    paths: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        if token == "--":
            paths.extend(args[i:])
            break
        if token[:1] != "-" or token == "-":
            paths.append(token)
            continue
        if token.startswith("--"):
            name, eq, inline = token.partition("=")
            opt = _BY_NAME.get(name)
            if opt is None or name in HELP:
                return None
            if opt.kind == Kind.FLAG or opt.kind == Kind.REFUSE:
                if eq or opt.kind == Kind.REFUSE:
                    return None
                values[opt.dest] = True
                continue
            if not eq:
                if i >= len(args):
                    return None
                inline, i = args[i], i + 1
            if not _store(opt, inline, values, multiple):
                return None
            continue
        j = 1  # a cluster of short options: -nS, -mMSG, -nm MSG
        while j < len(token):
            opt = _BY_NAME.get("-" + token[j])
            if opt is None or opt.kind == Kind.REFUSE or "-" + token[j] in HELP:
                return None
            j += 1
            if opt.kind == Kind.FLAG:
                values[opt.dest] = True
                continue
            if j < len(token):
                value = token[j:]
            elif i < len(args):
                value, i = args[i], i + 1
            else:
                return None
            if not _store(opt, value, values, multiple):
                return None
            break
    for dest, given in multiple.items():
        values[dest] = tuple(given)
    values["paths"] = tuple(paths)
    return values


def _store(opt: Opt, value: str, values: dict[str, Any], multiple: dict[str, list[str]]) -> bool:
    if opt.kind == Kind.MULTIPLE:
        multiple.setdefault(opt.dest, []).append(value)
    elif opt.kind == Kind.CHOICE:
        if value not in opt.choices:
            return False
        values[opt.dest] = value
    elif opt.kind == Kind.NUMBER:
        number = _number(opt, value)
        if number is None:
            return False
        values[opt.dest] = number
    else:
        values[opt.dest] = value
    return True


def _number(opt: Opt, value: str) -> float | None:
    """As cli._common.Number converts it, or None when it would refuse it."""
    import math

    try:
        number = opt.number(value.strip())
    except (ValueError, OverflowError):
        return None
    if not math.isfinite(number) or not 0 <= number <= opt.hi:
        return None
    return number
