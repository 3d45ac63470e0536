"""Merge our hooks into a harness's configuration file, and take them out again.

Existing content is kept as it is; ours is recognised by MARK in the command, so install is
idempotent (ours replaced, never duplicated) and uninstall removes exactly ours. A file we cannot
read as the harness's JSON is refused, never overwritten.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.agents.harnesses import MARK, Event, Harness
from worktree_tools.core import atomic
from worktree_tools.core.errors import InvalidInput

RULES_HEADER = "# worktree-tools: installed by `git wt agent install codex`"


@dataclass(frozen=True)
class Plan:
    """What install/uninstall would write: `text` None means remove the file."""

    path: Path
    before: str | None
    text: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.text

    def to_json(self) -> dict[str, Any]:
        action = "unchanged"
        if self.changed:
            action = (
                "removed"
                if self.text is None
                else ("created" if self.before is None else "updated")
            )
        return {"path": os.fspath(self.path), "action": action}


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"cannot read {path}: {exc}", fix=f"repair or move {path} aside, then run this again"
        ) from None


def _load(path: Path, text: str | None) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(
            f"{path} is not valid JSON ({exc}); refusing to overwrite it",
            fix=f"repair or move {path} aside, then run this again",
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{path} holds {type(data).__name__}, not a JSON object; refusing to overwrite it",
            fix=f"repair or move {path} aside, then run this again",
        )
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict) or not all(isinstance(v, list) for v in hooks.values()):
        raise InvalidInput(
            f'{path}: "hooks" is not an object of lists; refusing to overwrite it',
            fix=f'repair the "hooks" key of {path}, then run this again',
        )
    return data


def _ours(harness: Harness, entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    if harness.name in ("claude", "gemini"):
        inner = entry.get("hooks")
        return isinstance(inner, list) and any(
            isinstance(h, dict) and MARK in str(h.get("command", "")) for h in inner
        )
    key = "bash" if harness.name == "copilot" else "command"
    return MARK in str(entry.get(key, ""))


def _entry(harness: Harness, native: str, event: Event, matcher: str | None) -> dict[str, Any]:
    command = harness.command(native, event)
    if harness.name in ("claude", "gemini"):
        hook: dict[str, Any] = {"type": "command", "command": command}
        if harness.name == "gemini":
            hook["name"] = f"worktree-tools-{event.value}"
            hook["timeout"] = 60000  # milliseconds
        else:
            hook["timeout"] = 60  # seconds
        group: dict[str, Any] = {"hooks": [hook]}
        if matcher:
            group = {"matcher": matcher, **group}
        return group
    if harness.name == "copilot":
        return {"type": "command", "bash": command, "timeoutSec": 60}
    return {"command": command}


def _strip(harness: Harness, data: dict[str, Any]) -> dict[str, Any]:
    hooks = {
        event: [e for e in entries if not _ours(harness, e)]
        for event, entries in dict(data.get("hooks", {})).items()
    }
    out = {k: v for k, v in data.items() if k != "hooks"}
    kept = {k: v for k, v in hooks.items() if v}
    if kept:
        out["hooks"] = kept
    return out


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def plan_install(root: Path, harness: Harness) -> Plan:
    path = root / harness.config
    before = _read(path)
    if harness.name == "codex":
        if before is not None and RULES_HEADER not in before:
            raise InvalidInput(
                f"{path} exists and is not ours; refusing to overwrite it",
                fix=f"move {path} aside, then run git wt agent install codex again",
            )
        return Plan(path, before, codex_rules())
    data = _strip(harness, _load(path, before))
    if harness.name in ("cursor", "copilot"):
        data = {
            "version": data.get("version", 1),
            **{k: v for k, v in data.items() if k != "version"},
        }
    hooks: dict[str, Any] = dict(data.get("hooks", {}))
    for native, event, matcher in harness.events:
        hooks[native] = [*hooks.get(native, []), _entry(harness, native, event, matcher)]
    data["hooks"] = hooks
    return Plan(path, before, _dump(data))


def plan_uninstall(root: Path, harness: Harness) -> Plan:
    path = root / harness.config
    before = _read(path)
    if before is None:
        return Plan(path, None, None)
    if harness.name == "codex":
        return Plan(path, before, None if RULES_HEADER in before else before)
    data = _strip(harness, _load(path, before))
    leftover = {k: v for k, v in data.items() if not (k == "version" and harness.owns_file)}
    if not leftover and (harness.owns_file or _only_ours(harness, before)):
        return Plan(path, before, None)
    return Plan(path, before, _dump(data))


def _only_ours(harness: Harness, before: str) -> bool:
    """Everything in the file is ours (we created it): remove it rather than leave `{}`."""
    data = _load(Path(harness.config), before)
    return not {k for k in data if k not in ("hooks", "version")}


def apply(plan: Plan) -> None:
    if not plan.changed:
        return
    if plan.text is None:
        plan.path.unlink(missing_ok=True)
        for parent in (plan.path.parent, plan.path.parent.parent):
            try:
                parent.rmdir()  # only when empty: .gemini/, .github/hooks/ we created
            except OSError:
                break
        return
    plan.path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(plan.path, plan.text, durable=True)


# Codex exec policy: the same command prefixes the other harnesses' hooks deny, each with the
# wt-commit command as its justification. `match`/`not_match` are checked by Codex at load.
_FIX = "wt-commit -m MSG -- PATH... (commits exactly your paths; see git wt commit --help)"
_RULES: tuple[tuple[list[object], str, list[list[str]]], ...] = (
    (["git", "stash"], "git stash is one stack shared by every worktree and agent",
     [["git", "stash"], ["git", "stash", "push", "-u"], ["git", "stash", "pop"]]),
    (["git", "commit"], "git commit commits the whole shared index, other agents' staged files too",
     [["git", "commit", "-am", "x"], ["git", "commit", "-m", "x"]]),
    (["git", "add", ["-A", "--all", ".", "-u", "--update", ":/"]],
     "git add of the whole tree stages other agents' files",
     [["git", "add", "-A"], ["git", "add", "."]]),
    (["git", "reset", "--hard"], "git reset --hard discards every uncommitted change",
     [["git", "reset", "--hard"], ["git", "reset", "--hard", "HEAD~1"]]),
    (["git", "checkout", ["--", "."]], "git checkout of the whole tree discards others' changes",
     [["git", "checkout", "--", "."], ["git", "checkout", "."]]),
    (["git", "restore", "."], "git restore . discards other agents' changes",
     [["git", "restore", "."]]),
    (["git", "clean", ["-f", "-fd", "-df", "-fdx", "-xdf", "-fx", "-xf", "--force"]],
     "git clean -f deletes other agents' untracked files",
     [["git", "clean", "-fd"], ["git", "clean", "-f"]]),
)  # fmt: skip


def codex_rules() -> str:
    out = [
        RULES_HEADER + "; removed by `git wt agent uninstall codex`.",
        "# Many agents share this repository: commit with wt-commit, never the shared index.",
        "",
    ]
    for pattern, why, examples in _RULES:
        out += [
            "prefix_rule(",
            f"    pattern = {json.dumps(pattern)},",
            '    decision = "forbidden",',
            f"    justification = {json.dumps(why + '; run instead: ' + _FIX)},",
            f"    match = {json.dumps(examples)},",
            '    not_match = [["git", "status"], ["git", "diff"]],',
            ")",
            "",
        ]
    return "\n".join(out)
