"""Messages core code leaves for the person at the terminal ("wt: removed stale lock ...").

Core modules never print (STYLE 1): they `say` here, and the CLI's one error funnel prints what
was said on stderr when the command ends, on success and on failure alike. One command runs per
process, so a process-wide list is enough.
"""

from __future__ import annotations

PREFIX = "wt:"
_pending: list[str] = []


def say(message: str) -> None:
    _pending.append(message if message.startswith(PREFIX) else f"{PREFIX} {message}")


def drain() -> list[str]:
    out = list(_pending)
    _pending.clear()
    return out
