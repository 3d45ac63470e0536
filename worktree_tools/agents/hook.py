"""`git wt agent hook HARNESS EVENT`: read the harness's JSON payload, answer in its protocol."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.agents import classify, lifecycle
from worktree_tools.agents.classify import Decision, Verdict
from worktree_tools.agents.harnesses import Event, Harness
from worktree_tools.core.agent import recorded_owner
from worktree_tools.core.errors import InvalidInput, WtError
from worktree_tools.core.repo import Worktree, discover

SHELL_TOOLS = {
    "claude": {"Bash"},
    "gemini": {"run_shell_command"},
    "copilot": {"bash", "shell", "powershell"},
}


@dataclass(frozen=True)
class Reply:
    stdout: str
    exit_code: int = 0
    stderr: str = ""


def event_of(harness: Harness, native: str) -> Event:
    for name, event, _ in harness.events:
        if name == native:
            return event
    raise InvalidInput(
        f"{harness.name} has no hook event {native!r} here",
        fix=f"git wt agent install {harness.name} (rewrites the hook commands)",
    )


def handle(harness: Harness, native: str, raw: str) -> Reply:
    event = event_of(harness, native)
    try:
        payload = json.loads(raw) if raw.strip() else {}
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        # Not the documented payload: let the harness carry on; the git backstop still holds.
        return Reply(_pass(harness), 0, "worktree-tools: unreadable hook payload; not checked\n")
    cwd = Path(str(payload.get("cwd") or _first_root(payload) or os.getcwd()))
    if event is Event.PRE_TOOL:
        return _pre_tool(harness, native, payload, cwd)
    if event is Event.SESSION_START:
        text = lifecycle.session_start(cwd)
        return Reply(_context(harness, native, text))
    if event is Event.CHECKPOINT:
        lifecycle.checkpoint(cwd, f"{harness.name} {native}")
        return Reply("{}\n" if harness.name == "gemini" else "")
    if event is Event.WORKTREE_CREATE:
        name = payload.get("name") or payload.get("worktree_name")
        if not isinstance(name, str) or not name:
            raise InvalidInput("WorktreeCreate payload has no worktree name")
        return Reply(f"{lifecycle.worktree_create(cwd, name)}\n")
    path = payload.get("worktree_path")
    if not isinstance(path, str):
        raise InvalidInput("WorktreeRemove payload has no worktree_path")
    lifecycle.worktree_remove(cwd, Path(path))
    return Reply("")


def _first_root(payload: dict[str, Any]) -> str | None:
    roots = payload.get("workspace_roots")
    return roots[0] if isinstance(roots, list) and roots and isinstance(roots[0], str) else None


def _pass(harness: Harness) -> str:
    return "{}\n" if harness.name == "gemini" else ""


def _command(harness: Harness, payload: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """(shell command, the tool input it came from) per the harness's documented payload."""
    if harness.name == "cursor":
        command = payload.get("command")
        return (command if isinstance(command, str) else None), {}
    if harness.name == "copilot":
        tool, args = payload.get("toolName"), payload.get("toolArgs")
        if isinstance(args, str):  # the CLI passes the arguments as a JSON string
            try:
                args = json.loads(args)
            except ValueError:
                args = None
    else:
        tool, args = payload.get("tool_name"), payload.get("tool_input")
    if tool not in SHELL_TOOLS.get(harness.name, set()) or not isinstance(args, dict):
        return None, {}
    command = args.get("command")
    return (command if isinstance(command, str) else None), args


def _pre_tool(harness: Harness, native: str, payload: dict[str, Any], cwd: Path) -> Reply:
    command, tool_input = _command(harness, payload)
    if command is None:
        return Reply(_pass(harness))
    decision = classify.decide(command, cwd, context())
    if decision.verdict is Verdict.ALLOW:
        return Reply(_pass(harness))
    return Reply(answer(harness, native, decision, tool_input))


def answer(harness: Harness, native: str, d: Decision, tool_input: dict[str, Any]) -> str:
    """The harness's own deny / rewrite answer. Where it cannot rewrite, a rewrite is a deny
    whose reason is the command to run instead."""
    reason = d.reason or ""
    if d.verdict is Verdict.REWRITE and harness.name in ("claude", "gemini"):
        note = f"worktree-tools rewrote the command to: {d.command}"
        if harness.name == "claude":
            out: dict[str, Any] = {
                "hookSpecificOutput": {
                    "hookEventName": native,
                    "permissionDecision": "allow",
                    "permissionDecisionReason": note,
                    "updatedInput": {**tool_input, "command": d.command},
                }
            }
        else:
            out = {
                "decision": "allow",
                "systemMessage": note,
                "hookSpecificOutput": {"tool_input": {"command": d.command}},
            }
        return json.dumps(out) + "\n"
    if d.verdict is Verdict.REWRITE:
        reason = f"run this instead (it commits exactly these paths): {d.command}"
    reason = f"worktree-tools: {reason}"
    if harness.name == "claude":
        out = {
            "hookSpecificOutput": {
                "hookEventName": native,
                "permissionDecision": "deny",
                "permissionDecisionReason": reason,
            }
        }
    elif harness.name == "gemini":
        out = {"decision": "deny", "reason": reason}
    elif harness.name == "cursor":
        out = {"permission": "deny", "user_message": reason, "agent_message": reason}
    else:
        out = {"permissionDecision": "deny", "permissionDecisionReason": reason}
    return json.dumps(out) + "\n"


def _context(harness: Harness, native: str, text: str | None) -> str:
    if text is None:
        return _pass(harness)
    if harness.name in ("claude", "gemini"):
        out: dict[str, Any] = {
            "hookSpecificOutput": {"hookEventName": native, "additionalContext": text}
        }
        return json.dumps(out) + "\n"
    if harness.name == "cursor":
        return json.dumps({"additional_context": text}) + "\n"
    return ""  # Copilot ignores sessionStart output


def context() -> classify.Context:
    """The classifier's questions, answered from the worktree on disk (cached per directory)."""
    cache: dict[Path, Worktree | None] = {}

    def wt_of(cwd: Path) -> Worktree | None:
        if cwd not in cache:
            try:
                cache[cwd] = discover(cwd)
            except (WtError, OSError):  # not a repository, or no such directory (yet)
                cache[cwd] = None
        return cache[cwd]

    def shared(cwd: Path) -> bool:
        wt = wt_of(cwd)
        if wt is None:
            return False  # not a repository: not ours to police
        owner = None if wt.is_main else recorded_owner(wt.gitdir)
        if owner is None:
            return True
        me = os.environ.get("WT_AGENT")
        return bool(me) and me != owner

    def changed(cwd: Path) -> list[str]:
        from worktree_tools.guard.suggest import changed_paths

        wt = wt_of(cwd)
        return changed_paths(wt) if wt is not None else []

    def top(cwd: Path) -> Path | None:
        wt = wt_of(cwd)
        return wt.toplevel if wt is not None else None

    return classify.Context(shared=shared, changed=changed, top=top)
