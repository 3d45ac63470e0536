"""`git wt task next` and `git wt task claim ID`, read without click.

Agents claim work in a loop, and importing click is about a sixth of a claim's CPU. This reads
only the command lines agents run: `--agent NAME`, `--remote NAME` and `--json`, in any order,
each at most once, and for `claim` one task id. They run exactly as the click commands run them
(cli/task_run.py). Anything else (help, any other option, a repeated one, `--`, a value that
starts with '-', a bad $WT_LOCK_TIMEOUT) returns None, and the click command reads the same
argv: usage errors and help come from click, word for word.
"""

from __future__ import annotations

from worktree_tools.cli.task_run import claim_body, execute, next_body

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from worktree_tools.cli.task_run import Body

COMMANDS: dict[str, tuple[int, Body]] = {"next": (0, next_body), "claim": (1, claim_body)}
VALUED = {"--agent": "agent", "--remote": "remote"}


def parse(argv: Sequence[str]) -> tuple[str, dict[str, Any]] | None:
    """(command, its values as the click command would have them), or None: leave it to click."""
    if not argv or argv[0] not in COMMANDS:
        return None
    name = argv[0]
    values: dict[str, Any] = {"agent": None, "remote": None, "as_json": False}
    seen: set[str] = set()
    positional: list[str] = []
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        given: bool | str
        option, eq, value = arg.partition("=")
        if arg == "--json":
            key, given = "as_json", True
        elif option in VALUED:
            if not eq:
                if not args:
                    return None
                value = args.pop(0)
            if value.startswith("-"):
                return None
            key, given = VALUED[option], value
        elif arg.startswith("-"):
            return None
        else:
            positional.append(arg)
            continue
        if key in seen:
            return None
        seen.add(key)
        values[key] = given
    if len(positional) != COMMANDS[name][0]:
        return None
    if positional:
        values["task_id"] = positional[0]
    return name, values


def run(argv: Sequence[str]) -> int | None:
    """Run `git wt task ARGV` when `parse` reads it; its exit code. None: not read here."""
    from worktree_tools.core.errors import InvalidInput
    from worktree_tools.core.locks import lock_timeout

    parsed = parse(argv)
    if parsed is None:
        return None
    name, values = parsed
    try:
        timeout = lock_timeout(None)  # what --lock-timeout's callback gives when it is absent
    except InvalidInput:
        return None
    return execute(
        name, COMMANDS[name][1], holder=True, lock_timeout=timeout, owner_pid=None, ttl=None,
        alloc=False, **values,
    )  # fmt: skip
