"""Who is running git: an agent (WT_AGENT, or a marker a harness sets for its tool commands) or a
person. The shell shim checks the same markers before it starts Python (see shim.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# (variable, value it must have or None for "set and non-empty", harness). Documented by each
# harness for the commands its agent runs; see docs/agents.md for the sources.
MARKERS: tuple[tuple[str, str | None, str], ...] = (
    ("WT_AGENT", None, "worktree-tools"),
    ("CLAUDECODE", "1", "claude"),
    ("GEMINI_CLI", "1", "gemini"),
    ("CODEX_SANDBOX", None, "codex"),
    ("CODEX_THREAD_ID", None, "codex"),
    ("CURSOR_AGENT", None, "cursor"),
    ("CLINE_ACTIVE", None, "cline"),
    ("OPENCODE", None, "opencode"),
)


@dataclass(frozen=True)
class Actor:
    """An agent (`name` is WT_AGENT, or None when only a harness marker says so) or a person."""

    is_agent: bool
    name: str | None
    harness: str | None

    @classmethod
    def detect(cls, env: Mapping[str, str] | None = None) -> Actor:
        env = os.environ if env is None else env
        for var, value, harness in MARKERS:
            got = env.get(var)
            if got and (value is None or got == value):
                return cls(True, env.get("WT_AGENT") or None, harness)
        return cls(False, None, None)

    def describe(self) -> str:
        if not self.is_agent:
            return "a person"
        if self.name:
            return f"agent {self.name}"
        return f"an agent ({self.harness} session, WT_AGENT unset)"


def shell_test() -> str:
    """The same markers as one POSIX `test` expression, for the shim's fast path."""
    parts = []
    for var, value, _ in MARKERS:
        if value is None:
            parts.append(f'[ -n "${{{var}:-}}" ]')
        else:
            parts.append(f'[ "${{{var}:-}}" = {value} ]')
    return " || ".join(parts)
