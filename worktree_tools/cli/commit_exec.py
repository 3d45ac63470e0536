"""What `wt-commit` / `git wt commit` do once their options are parsed (no click: the hot path)."""

from __future__ import annotations

import os

from worktree_tools.cli._output import echo, emit, run_guarded
from worktree_tools.core.errors import Outcome, exit_code

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def execute(values: dict[str, Any]) -> int:
    """Commit as the parsed options ask: `values` holds every dest of cli/commit_args.OPTIONS
    (as click or the lean parser produced it) plus `paths`."""
    as_json: bool = values["as_json"]
    return run_guarded("wt-commit", as_json, lambda: _commit(values, as_json))


def _commit(v: dict[str, Any], as_json: bool) -> int:
    from worktree_tools.commit.request import CommitRequest
    from worktree_tools.commit.run import run

    sign: str | None = None
    if v["no_gpg_sign"]:
        sign = "no"
    elif v["gpg_key"]:
        sign = v["gpg_key"]
    elif v["gpg_sign"]:
        sign = ""
    req = CommitRequest(
        paths=tuple(v["paths"]),
        cwd=os.getcwd(),
        messages=tuple(v["messages"]),
        message_file=v["message_file"],
        agent=v["agent"],
        lock_timeout=v["lock_timeout"],
        no_verify=v["no_verify"],
        whole_tree=v["commit_whole_tree"],
        sign=sign,
        hooks=v["hooks_mode"],
        revalidate=v["revalidate"],
    )
    pushed = None
    if v["push"] or v["fence"] or v["remote"] is not None:
        from worktree_tools.remote.commit import RemoteOptions, commit_and_push

        opts = RemoteOptions(
            push=v["push"], remote=v["remote"], retries=v["retries"], fence=v["fence"]
        )
        result, pushed = commit_and_push(req, opts)
    else:
        result = run(req)
    if result.outcome is Outcome.COMMITTED:
        text = (
            f"committed {result.commit and result.commit[:12]} on {result.branch}: "
            f"{len(result.paths)} path(s) (lock wait {result.lock_wait_ms:.1f} ms, "
            f"hold {result.lock_hold_ms:.1f} ms)"
        )
    else:
        text = f"unchanged: {', '.join(result.paths)} already committed on {result.branch}"
    for warning in result.warnings:
        echo(f"wt-commit: warning: {warning}", err=True)
    payload = result.to_json()
    if pushed is not None:
        payload["push"] = pushed.to_json()
        how = f" (replayed, {pushed.retries} retries)" if pushed.pushed != pushed.commit else ""
        text += f"; pushed {pushed.pushed[:12]} to {pushed.remote}/{pushed.branch}{how}"
        if pushed.note:
            echo(f"wt-commit: note: {pushed.note}", err=True)
    emit(payload, as_json, text)
    return exit_code(result.outcome)
