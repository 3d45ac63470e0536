"""Each harness's own configuration and hook protocol, as its documentation gives it.

Sources (see docs/agents.md for the excerpts followed):
- Claude Code: https://code.claude.com/docs/en/hooks (.claude/settings.json; PreToolUse with
  hookSpecificOutput.permissionDecision deny|allow, permissionDecisionReason, updatedInput;
  SessionStart additionalContext; Stop; PreCompact; WorktreeCreate prints the path).
- Gemini CLI: https://geminicli.com/docs/hooks/reference (.gemini/settings.json; BeforeTool with
  decision "deny" + reason, hookSpecificOutput.tool_input merges over the arguments;
  SessionStart additionalContext; SessionEnd; PreCompress).
- Cursor: https://cursor.com/docs/agent/hooks (.cursor/hooks.json version 1;
  beforeShellExecution {command, cwd} answered {permission, user_message, agent_message};
  sessionStart additional_context; stop).
- GitHub Copilot CLI: https://docs.github.com/en/copilot/reference/hooks-configuration
  (.github/hooks/*.json version 1; preToolUse {toolName, toolArgs} answered
  {permissionDecision, permissionDecisionReason}; sessionStart; sessionEnd).
- Codex: https://developers.openai.com/codex/rules (.codex/rules/*.rules, Starlark
  prefix_rule(pattern, decision="forbidden", justification)).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

GIT_WT = '"${WT_GIT_WT:-git-wt}"'
MARK = f"{GIT_WT} agent hook"  # every command we install contains it; uninstall finds ours by it
_GUARDED_CASE = "|".join(
    f"*git*{w}*" for w in ("commit", "add", "stash", "reset", "checkout", "restore", "clean")
)


class Event(str, Enum):
    PRE_TOOL = "pre_tool"
    SESSION_START = "session_start"
    CHECKPOINT = "checkpoint"  # stop / pre-compaction / session end
    WORKTREE_CREATE = "worktree_create"
    WORKTREE_REMOVE = "worktree_remove"


@dataclass(frozen=True)
class Harness:
    name: str
    config: str  # repository-relative path of the file we merge into (or own)
    owns_file: bool  # a file of our own (removed on uninstall) rather than a shared one
    events: tuple[tuple[str, Event, str | None], ...]  # (native event, ours, matcher)
    pass_output: str  # what the fast path prints for a command it lets through

    def command(self, native: str, event: Event) -> str:
        run = f"{GIT_WT} agent hook {self.name} {native}"
        if event is not Event.PRE_TOOL:
            return run
        passed = f"*) {self.pass_output} ;; " if self.pass_output else ""
        # Pure shell unless the payload mentions git and a guarded subcommand.
        return f'i=$(cat); case "$i" in {_GUARDED_CASE}) printf \'%s\' "$i" | {run} ;; {passed}esac'


HARNESSES: dict[str, Harness] = {
    h.name: h
    for h in (
        Harness(
            "claude",
            ".claude/settings.json",
            False,
            (
                ("PreToolUse", Event.PRE_TOOL, "Bash"),
                ("SessionStart", Event.SESSION_START, None),
                ("Stop", Event.CHECKPOINT, None),
                ("PreCompact", Event.CHECKPOINT, None),
                ("WorktreeCreate", Event.WORKTREE_CREATE, None),
                ("WorktreeRemove", Event.WORKTREE_REMOVE, None),
            ),
            "",
        ),
        Harness(
            "gemini",
            ".gemini/settings.json",
            False,
            (
                ("BeforeTool", Event.PRE_TOOL, "run_shell_command"),
                ("SessionStart", Event.SESSION_START, None),
                ("PreCompress", Event.CHECKPOINT, None),
                ("SessionEnd", Event.CHECKPOINT, None),
            ),
            "echo '{}'",  # exit 0: stdout is parsed as JSON
        ),
        Harness(
            "cursor",
            ".cursor/hooks.json",
            False,
            (
                ("beforeShellExecution", Event.PRE_TOOL, None),
                ("sessionStart", Event.SESSION_START, None),
                ("stop", Event.CHECKPOINT, None),
            ),
            "",
        ),
        Harness(
            "copilot",
            ".github/hooks/worktree-tools.json",
            True,
            (
                ("preToolUse", Event.PRE_TOOL, None),
                ("sessionStart", Event.SESSION_START, None),
                ("sessionEnd", Event.CHECKPOINT, None),
            ),
            "",
        ),
        Harness("codex", ".codex/rules/worktree-tools.rules", True, (), ""),
    )
}


def get(name: str) -> Harness:
    from worktree_tools.core.errors import InvalidInput

    try:
        return HARNESSES[name]
    except KeyError:
        raise InvalidInput(
            f"unknown harness {name!r}",
            fix="git wt agent install claude (or one of: " + ", ".join(HARNESSES) + ")",
        ) from None


def config_path(root: Path, harness: Harness) -> Path:
    return root / harness.config
