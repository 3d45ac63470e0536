"""`git wt agent install|uninstall HARNESS [--dry-run]` and the hidden `git wt agent hook`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from worktree_tools.cli._common import emit, run_guarded

HARNESS_NAMES = ("claude", "codex", "gemini", "copilot", "cursor")


@click.group("agent")
def agent_group() -> None:
    """Wire worktree-tools into an agent harness's own configuration (docs/agents.md)."""


def _change(harness_name: str, dry_run: bool, as_json: bool, install: bool) -> int:
    verb = "install" if install else "uninstall"

    def body() -> int:
        from worktree_tools.agents import harnesses
        from worktree_tools.agents import install as inst
        from worktree_tools.core import events
        from worktree_tools.core.agent import resolve
        from worktree_tools.core.repo import discover

        wt = discover(Path.cwd())
        harness = harnesses.get(harness_name)
        plan = (inst.plan_install if install else inst.plan_uninstall)(wt.toplevel, harness)
        if not dry_run:
            inst.apply(plan)
            if plan.changed:
                events.append(
                    wt.state_dir, f"agent_{verb}", resolve(None, wt.gitdir)[0],
                    outcome="ok", harness=harness.name, path=str(plan.path),
                    change=plan.to_json()["action"],
                )  # fmt: skip
        change = plan.to_json()
        undo = f"git wt agent {'uninstall' if install else 'install'} {harness.name}"
        lines = [f"{harness.name}: {change['path']}: {change['action']}"]
        if dry_run:
            lines[0] += " (dry run: nothing written)"
            if plan.changed and plan.text is not None:
                lines.append(plan.text.rstrip("\n"))
        elif plan.changed:
            lines.append(f"undo with: {undo}")
        emit(
            {"schema_version": 1, "outcome": "ok", "harness": harness.name,
             "dry_run": dry_run, **change, "content": plan.text if dry_run else None,
             "undo": undo if plan.changed else None},
            as_json,
            "\n".join(lines),
        )  # fmt: skip
        return 0

    return run_guarded(f"git wt agent {verb}", as_json, body)


@agent_group.command("install")
@click.argument("harness", type=click.Choice(HARNESS_NAMES))
@click.option("--dry-run", "-n", is_flag=True, help="Show what would be written; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def install_cmd(harness: str, dry_run: bool, as_json: bool) -> int:
    """Merge worktree-tools' hooks (or Codex rules) into HARNESS's config in this repository."""
    return _change(harness, dry_run, as_json, install=True)


@agent_group.command("uninstall")
@click.argument("harness", type=click.Choice(HARNESS_NAMES))
@click.option("--dry-run", "-n", is_flag=True, help="Show what would be removed; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def uninstall_cmd(harness: str, dry_run: bool, as_json: bool) -> int:
    """Take worktree-tools' hooks out of HARNESS's config again, leaving everything else."""
    return _change(harness, dry_run, as_json, install=False)


@agent_group.command("hook", hidden=True)
@click.argument("harness", type=click.Choice(HARNESS_NAMES))
@click.argument("event")
def hook_cmd(harness: str, event: str) -> int:
    """What an installed harness hook runs: payload on stdin, the harness's answer on stdout."""

    def body() -> int:
        from worktree_tools.agents import harnesses
        from worktree_tools.agents.hook import handle

        reply = handle(harnesses.get(harness), event, sys.stdin.read())
        sys.stdout.write(reply.stdout)
        sys.stdout.flush()
        if reply.stderr:
            sys.stderr.write(reply.stderr)
        return reply.exit_code

    return run_guarded(f"wt {harness} hook", False, body)
