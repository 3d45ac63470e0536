"""`git wt hooks install|uninstall|status|run` and `git wt doctor`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from worktree_tools.cli._common import emit, run_guarded


@click.group("hooks")
def hooks_group() -> None:
    """Install the hook shims (chaining existing hooks), inspect or remove them."""


def _logged(action: str, change: Callable[[Any], list[Any]]) -> tuple[Any, list[Any]]:
    """Install or uninstall in this worktree, and log what it changed as `action`."""
    from worktree_tools.core import events
    from worktree_tools.core.agent import resolve
    from worktree_tools.core.repo import discover

    wt = discover(Path.cwd())
    changes = change(wt)
    events.append(
        wt.state_dir, action, resolve(None, wt.gitdir)[0], hooks_dir=os.fspath(wt.hooks_dir),
        changes=[c.to_json() for c in changes],
    )  # fmt: skip
    return wt, changes


@hooks_group.command("install")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--chain-unknown",
    is_flag=True,
    help="Also chain hooks it cannot read as a script (binaries, symlinks, tracked files).",
)
def install_cmd(as_json: bool, chain_unknown: bool) -> int:
    """Install the pre-commit and pre-push shims into the hooks directory."""

    def body() -> int:
        from worktree_tools.hooks import install as hookinstall

        def install(wt: Any) -> list[Any]:
            return hookinstall.install(wt, chain_unknown=chain_unknown)

        wt, changes = _logged("hooks_install", install)
        lines = [
            f"{c.hook}: {c.action.value}{' (' + c.detail + ')' if c.detail else ''}"
            for c in changes
        ]
        lines.append(f"hooks directory: {wt.hooks_dir}; undo with: git wt hooks uninstall")
        emit(
            {"outcome": "ok", "hooks_dir": os.fspath(wt.hooks_dir),
             "changes": [c.to_json() for c in changes]},
            as_json,
            "\n".join(lines),
        )  # fmt: skip
        return 0

    return run_guarded("git wt hooks install", as_json, body)


@hooks_group.command("uninstall")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def uninstall_cmd(as_json: bool) -> int:
    """Remove the shims and put back exactly the hooks they chained."""

    def body() -> int:
        from worktree_tools.hooks import install as hookinstall

        _wt, changes = _logged("hooks_uninstall", hookinstall.uninstall)
        text = "\n".join(f"{c.hook}: {c.action.value} {c.detail or ''}".rstrip() for c in changes)
        emit({"outcome": "ok", "changes": [c.to_json() for c in changes]}, as_json, text)
        return 0

    return run_guarded("git wt hooks uninstall", as_json, body)


@hooks_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status_cmd(as_json: bool) -> int:
    """Show, per managed hook, whether the shim is installed and what it chains."""

    def body() -> int:
        import shutil

        from worktree_tools.core.repo import discover
        from worktree_tools.hooks import slots as hookslots

        wt = discover(Path.cwd())
        slots = [hookslots.inspect(wt, n) for n in hookslots.MANAGED]
        on_path = shutil.which(os.environ.get("WT_GIT_WT", "git-wt"))
        lines = [f"hooks directory: {wt.hooks_dir}", f"git-wt on PATH: {on_path or 'NO'}"]
        for s in slots:
            chained = f", chains {s.manager}" if s.state.value == "installed" and s.chained else ""
            other = f" ({s.manager})" if s.state.value != "installed" and s.manager else ""
            lines.append(f"{s.name}: {s.state.value}{other}{chained}")
        emit(
            {"outcome": "ok", "hooks_dir": os.fspath(wt.hooks_dir), "git_wt": on_path,
             "hooks": [s.to_json() for s in slots]},
            as_json,
            "\n".join(lines),
        )  # fmt: skip
        return 0

    return run_guarded("git wt hooks status", as_json, body)


@hooks_group.command("run", hidden=True)
@click.argument("name")
@click.option("--hooks-dir", type=click.Path(path_type=Path), required=True)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run_cmd(name: str, hooks_dir: Path, args: tuple[str, ...]) -> int:
    """What an installed shim runs: the guard, then the chained hook."""

    def body() -> int:
        from worktree_tools.hooks.shim import run_hook

        return run_hook(name, hooks_dir, list(args), Path.cwd())

    return run_guarded(f"wt {name} hook", False, body)  # JournalViolation -> exit 6


@click.command("doctor")
@click.option("--fix", is_flag=True, help="Repair what can be repaired safely.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def doctor_cmd(fix: bool, as_json: bool) -> int:
    """Find stale locks, stranded pre-commit patches, leaked config and orphaned hooks."""

    def body() -> int:
        from worktree_tools.core.agent import resolve
        from worktree_tools.core.errors import Outcome, exit_code
        from worktree_tools.core.repo import discover
        from worktree_tools.health import doctor

        wt = discover(Path.cwd(), tolerate_missing_toplevel=True)
        findings = doctor.examine(wt, fix=fix, agent=resolve(None, wt.gitdir)[0])
        open_ = [f for f in findings if not f.fixed]
        outcome = Outcome.OK if not open_ else Outcome.ATTENTION
        lines = [
            f"{'fixed' if f.fixed else 'found'}: {f.kind.value}: {f.subject}: {f.detail}"
            + (f"\n{doctor.PREFIX} undo with: {f.undo}" if f.fixed and f.undo else "")
            + (f"\n{doctor.PREFIX} to restore it: {f.extra['apply']}" if "apply" in f.extra else "")
            + (
                f"\n{doctor.PREFIX} next: {f.extra['fix']}"
                if f.extra.get("fix") and not f.fixed
                else ""
            )
            for f in findings
        ]
        if not findings:
            lines.append("healthy: nothing to repair")
        elif open_ and not fix and any(f.fixable for f in open_):
            lines.append("repair with: git wt doctor --fix")
        emit(
            {"outcome": outcome.value, "findings": [f.to_json() for f in findings]},
            as_json,
            "\n".join(lines),
        )
        return exit_code(outcome)

    return run_guarded("git wt doctor", as_json, body)
