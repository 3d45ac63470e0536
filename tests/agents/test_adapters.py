"""Harness adapters: install/uninstall merged into real config files, and the installed hook
commands fed each harness's documented payloads (run through `sh -c`, as the harness runs them)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import committed_files, git, git_wt, head, write

from worktree_tools.agents.harnesses import HARNESSES


def install(repo: Path, harness: str) -> None:
    res = git_wt(repo, "agent", "install", harness)
    assert res.returncode == 0, res.stderr


def config(repo: Path, harness: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((repo / HARNESSES[harness].config).read_text())
    return data


def installed_command(repo: Path, harness: str, event: str) -> str:
    entries = config(repo, harness)["hooks"][event]
    for entry in entries:
        if harness in ("claude", "gemini"):
            for hook in entry["hooks"]:
                if "agent hook" in hook["command"]:
                    return str(hook["command"])
        else:
            key = "bash" if harness == "copilot" else "command"
            if "agent hook" in entry[key]:
                return str(entry[key])
    raise AssertionError(f"no worktree-tools hook for {harness} {event}")


def fire(repo: Path, harness: str, event: str, payload: dict[str, Any], **env: str) -> Any:
    proc = subprocess.run(
        ["sh", "-c", installed_command(repo, harness, event)],
        input=json.dumps(payload), capture_output=True, text=True, cwd=repo,
        env={**os.environ, **env},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc


def claude_bash(cwd: Path, command: str) -> dict[str, Any]:
    """Claude Code's documented PreToolUse input for the Bash tool."""
    return {
        "session_id": "abc123", "transcript_path": "/tmp/t.jsonl", "cwd": os.fspath(cwd),
        "permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Bash",
        "tool_input": {"command": command, "description": "run it", "timeout": 120000},
        "tool_use_id": "toolu_01",
    }  # fmt: skip


def claude_answer(proc: Any) -> dict[str, Any] | None:
    if not proc.stdout.strip():
        return None
    out: dict[str, Any] = json.loads(proc.stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse"
    return out


@pytest.mark.parametrize("harness", ["claude", "gemini", "cursor", "copilot", "codex"])
def test_install_merges_is_idempotent_and_uninstall_restores(repo: Path, harness: str) -> None:
    path = repo / HARNESSES[harness].config
    theirs: str | None = None
    if harness in ("claude", "gemini"):
        theirs = json.dumps({"model": "x", "hooks": {"PreToolUse": [{"matcher": "Edit",
                            "hooks": [{"type": "command", "command": "echo mine"}]}]}})  # fmt: skip
    elif harness == "cursor":
        theirs = json.dumps({"version": 1, "hooks": {"stop": [{"command": "echo mine"}]}})
    if theirs is not None:
        write(repo, HARNESSES[harness].config, theirs)
    dry = git_wt(repo, "agent", "install", harness, "--dry-run", "--json")
    assert dry.returncode == 0 and json.loads(dry.stdout)["content"]
    assert (path.read_text() if path.exists() else None) == theirs  # dry run wrote nothing
    install(repo, harness)
    first = path.read_text()
    again = json.loads(git_wt(repo, "agent", "install", harness, "--json").stdout)
    assert again["action"] == "unchanged" and path.read_text() == first
    if theirs is not None:
        assert "echo mine" in first
    res = git_wt(repo, "agent", "uninstall", harness, "--json")
    assert res.returncode == 0, res.stderr
    if theirs is None:
        assert not path.exists()
    else:
        assert json.loads(path.read_text()) == json.loads(theirs)


def test_unreadable_config_is_refused_not_overwritten(repo: Path) -> None:
    write(repo, ".claude/settings.json", "{not json")
    res = git_wt(repo, "agent", "install", "claude", "--json")
    assert res.returncode == 2 and json.loads(res.stdout)["fix"]
    assert (repo / ".claude/settings.json").read_text() == "{not json"


def test_claude_pre_tool_use_denies_rewrites_and_passes(repo: Path) -> None:
    install(repo, "claude")
    write(repo, "src/app.py", "print('v2')\n")
    write(repo, "README", "others' work\n")
    git(repo, "add", "README")
    assert fire(repo, "claude", "PreToolUse", claude_bash(repo, "git status")).stdout == ""
    assert fire(repo, "claude", "PreToolUse", claude_bash(repo, "ls -la")).stdout == ""
    for command in ("git commit -am wip", "git commit -m wip", "git add -A", "git add .",
                    "git stash", "git stash -u", "git reset --hard", "git checkout -- .",
                    "git restore .", "git clean -fd", "cd src && git stash"):  # fmt: skip
        out = claude_answer(fire(repo, "claude", "PreToolUse", claude_bash(repo, command)))
        assert out is not None and out["permissionDecision"] == "deny", command
        assert "wt-commit -m" in out["permissionDecisionReason"], command
    out = claude_answer(fire(repo, "claude", "PreToolUse", claude_bash(repo, "git commit -am wip")))
    assert out is not None
    assert out["permissionDecisionReason"].endswith("wt-commit -m wip -- README src/app.py")

    payload = claude_bash(repo, 'git commit -m "fix the app" -- src/app.py')
    out = claude_answer(fire(repo, "claude", "PreToolUse", payload))
    assert out is not None and out["permissionDecision"] == "allow"
    rewritten = out["updatedInput"]
    assert rewritten["command"] == "wt-commit -m 'fix the app' -- src/app.py"
    assert rewritten["description"] == "run it" and rewritten["timeout"] == 120000
    before = head(repo)
    subprocess.run(["sh", "-c", rewritten["command"]], cwd=repo, check=True)
    assert head(repo) != before and committed_files(repo) == ["src/app.py"]
    assert "README" in git(repo, "diff", "--cached", "--name-only")  # others' staged work kept


def test_claude_allows_whole_tree_commands_in_the_agents_own_worktree(repo: Path) -> None:
    install(repo, "claude")
    mine = Path(git_wt(repo, "alloc", "bot", "--owner-pid", "0").stdout.strip())
    write(mine, "f.txt", "f\n")
    for command in ("git add -A", "git commit -m x"):
        proc = fire(repo, "claude", "PreToolUse", claude_bash(mine, command), WT_AGENT="bot")
        assert proc.stdout == "", command
    proc = fire(repo, "claude", "PreToolUse", claude_bash(mine, "git stash"), WT_AGENT="bot")
    assert claude_answer(proc)["permissionDecision"] == "deny"  # type: ignore[index]
    proc = fire(repo, "claude", "PreToolUse", claude_bash(mine, "git add -A"), WT_AGENT="other")
    assert claude_answer(proc)["permissionDecision"] == "deny"  # type: ignore[index]


def test_gemini_before_tool(repo: Path) -> None:
    install(repo, "gemini")
    write(repo, "src/app.py", "print('g')\n")

    def payload(command: str) -> dict[str, Any]:  # the documented BeforeTool input
        return {
            "session_id": "s", "transcript_path": "/tmp/t.json", "cwd": os.fspath(repo),
            "hook_event_name": "BeforeTool", "timestamp": "2026-11-29T15:04:05Z",
            "tool_name": "run_shell_command", "tool_input": {"command": command},
        }  # fmt: skip

    assert json.loads(fire(repo, "gemini", "BeforeTool", payload("ls")).stdout) == {}
    assert json.loads(fire(repo, "gemini", "BeforeTool", payload("git diff")).stdout) == {}
    out = json.loads(fire(repo, "gemini", "BeforeTool", payload("git stash")).stdout)
    assert out["decision"] == "deny" and "wt-commit -m wip -- src/app.py" in out["reason"]
    out = json.loads(
        fire(repo, "gemini", "BeforeTool", payload("git commit -m x src/app.py")).stdout
    )
    assert out["hookSpecificOutput"]["tool_input"] == {"command": "wt-commit -m x -- src/app.py"}


def test_cursor_before_shell_execution(repo: Path) -> None:
    install(repo, "cursor")
    write(repo, "src/app.py", "print('c')\n")

    def payload(command: str) -> dict[str, Any]:
        return {
            "hook_event_name": "beforeShellExecution", "conversation_id": "c1",
            "generation_id": "g1", "workspace_roots": [os.fspath(repo)],
            "command": command, "cwd": os.fspath(repo),
        }  # fmt: skip

    assert fire(repo, "cursor", "beforeShellExecution", payload("npm test")).stdout == ""
    out = json.loads(fire(repo, "cursor", "beforeShellExecution", payload("git add -A")).stdout)
    assert (
        out["permission"] == "deny" and "wt-commit -m MESSAGE -- src/app.py" in out["agent_message"]
    )
    out = json.loads(
        fire(
            repo, "cursor", "beforeShellExecution", payload("git commit -m x -- src/app.py")
        ).stdout
    )
    assert out["permission"] == "deny"  # no rewrite in Cursor's protocol: the command is the reason
    assert "wt-commit -m x -- src/app.py" in out["agent_message"]


def test_copilot_pre_tool_use_with_tool_args_as_a_json_string(repo: Path) -> None:
    install(repo, "copilot")
    write(repo, "src/app.py", "print('p')\n")

    def payload(command: str) -> dict[str, Any]:
        return {
            "timestamp": 1764428645000, "cwd": os.fspath(repo), "toolName": "bash",
            "toolArgs": json.dumps({"command": command, "description": "d"}),
        }  # fmt: skip

    assert fire(repo, "copilot", "preToolUse", payload("git log -1")).stdout == ""
    out = json.loads(fire(repo, "copilot", "preToolUse", payload("git commit -am x")).stdout)
    assert out["permissionDecision"] == "deny"
    assert "wt-commit -m x -- src/app.py" in out["permissionDecisionReason"]


def _codex_rules(text: str) -> list[dict[str, Any]]:
    """The rules file evaluated as the Starlark subset it is (calls, lists, strings)."""
    rules: list[dict[str, Any]] = []
    for node in ast.parse(text).body:
        assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        assert isinstance(node.value.func, ast.Name) and node.value.func.id == "prefix_rule"
        rules.append({str(kw.arg): ast.literal_eval(kw.value) for kw in node.value.keywords})
    return rules


def _matches(pattern: list[Any], argv: list[str]) -> bool:
    if len(argv) < len(pattern):
        return False
    return all(
        a == p or (isinstance(p, list) and a in p)
        for p, a in zip(pattern, argv[: len(pattern)], strict=True)
    )


def test_codex_rules_forbid_the_same_prefixes_with_wt_commit_as_justification(repo: Path) -> None:
    install(repo, "codex")
    rules = _codex_rules((repo / ".codex/rules/worktree-tools.rules").read_text())
    assert rules and all(r["decision"] == "forbidden" for r in rules)
    for rule in rules:
        assert "wt-commit -m MSG -- PATH..." in rule["justification"]
        assert all(_matches(rule["pattern"], m) for m in rule["match"])
        assert not any(_matches(rule["pattern"], m) for m in rule["not_match"])

    def forbidden(argv: list[str]) -> bool:
        return any(_matches(r["pattern"], argv) for r in rules)

    for cmd in ("git stash", "git commit -am x", "git add -A", "git reset --hard",
                "git checkout -- .", "git restore .", "git clean -fd"):  # fmt: skip
        assert forbidden(cmd.split()), cmd
    for cmd in ("git status", "git diff", "git add src/app.py", "ls"):
        assert not forbidden(cmd.split()), cmd


def test_claude_lifecycle_session_start_stop_and_worktrees(repo: Path) -> None:
    install(repo, "claude")
    created = fire(repo, "claude", "WorktreeCreate", {
        "session_id": "s", "transcript_path": "/t", "cwd": os.fspath(repo),
        "hook_event_name": "WorktreeCreate", "name": "feature-x",
    }).stdout.strip()  # fmt: skip
    tree = Path(created)
    assert tree.is_dir() and (tree / ".git").is_file()
    shown = json.loads(git_wt(repo, "show", "feature-x", "--json").stdout)
    assert shown["worktree"] == created

    start = {"session_id": "s", "transcript_path": "/t", "cwd": created,
             "hook_event_name": "SessionStart", "source": "startup"}  # fmt: skip
    out = json.loads(fire(repo, "claude", "SessionStart", start).stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "SessionStart" and "feature-x" in out["additionalContext"]
    after = json.loads(git_wt(repo, "show", "feature-x", "--json").stdout)
    assert after["heartbeat"] >= shown["heartbeat"]

    write(tree, "wip.txt", "half done\n")
    stop = {"session_id": "s", "transcript_path": "/t", "cwd": created,
            "hook_event_name": "Stop", "stop_hook_active": False}  # fmt: skip
    assert fire(repo, "claude", "Stop", stop).stdout == ""
    handoff = json.loads(git_wt(repo, "show", "feature-x", "--json").stdout)["handoff"]
    assert handoff and "wip.txt" in json.dumps(handoff["uncommitted"])
    assert json.loads(git_wt(repo, "show", "feature-x", "--json").stdout)["lease"] == "active"

    main_start = dict(start, cwd=os.fspath(repo))
    out = json.loads(fire(repo, "claude", "SessionStart", main_start).stdout)["hookSpecificOutput"]
    assert "wt-commit -m MSG -- PATH..." in out["additionalContext"]

    fire(repo, "claude", "WorktreeRemove", {
        "session_id": "s", "transcript_path": "/t", "cwd": os.fspath(repo),
        "hook_event_name": "WorktreeRemove", "worktree_path": created,
    })  # fmt: skip
    assert json.loads(git_wt(repo, "show", "feature-x", "--json").stdout)["state"] == "done"
