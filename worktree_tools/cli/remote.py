"""`git wt sync` and `git wt lease acquire|renew|release|list`: coordination through a remote."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from worktree_tools.cli._common import SECONDS, TOKEN, TTL, emit, run_guarded, timeout_option


def _json_opt(f: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(f)


def _agent_opt(f: Any) -> Any:
    return click.option(
        "--agent", help="Acting agent (default: $WT_AGENT, the worktree's owner, user@host)."
    )(f)


def _timeout_opt(f: Any) -> Any:
    return click.option(
        "--lock-timeout",
        type=SECONDS,
        default=None,
        callback=timeout_option,
        show_default="30, or $WT_LOCK_TIMEOUT",
        help="Seconds to wait for the repository lock.",
    )(f)


def _lease_remote_opt(f: Any) -> Any:
    return click.option(
        "--remote",
        help="Keep the lease on this remote (a name or URL), shared by every machine. "
        "Without it the lease lives in this repository, for this machine only.",
    )(f)


def _setup(agent: str | None, *, holder: bool = False) -> tuple[Any, str]:
    """The worktree and the acting agent. A lease `holder` must be named (--agent, $WT_AGENT or
    the worktree's owner): with the user@host fallback every process here would be the same
    holder, and two of them would both hold the lease."""
    from worktree_tools.core import agent as agent_mod
    from worktree_tools.core.errors import InvalidInput
    from worktree_tools.core.repo import discover

    wt = discover(Path.cwd())
    name, source = agent_mod.resolve(agent, wt.gitdir)
    if holder and source == "fallback":
        raise InvalidInput(
            "a lease needs a named holder, not the user@host fallback that every process here "
            "shares",
            fix="pass --agent NAME or set WT_AGENT",
        )
    return wt, name


@click.command("sync")
@click.option("--remote", help="Remote to pull from (default: the branch's remote, or origin).")
@click.option("--all", "all_worktrees", is_flag=True, help="Every worktree of the repository.")
@_agent_opt
@_timeout_opt
@_json_opt
def sync_cmd(
    remote: str | None, all_worktrees: bool, agent: str | None, lock_timeout: float, as_json: bool
) -> int:
    """Fast-forward to the remote branch when nothing can be lost; report everything else.

    Never an autostash, a merge or a rebase: a worktree with local commits or uncommitted
    changes is reported, not touched. Exit 0 when every worktree is up to date, fast-forwarded
    or ahead; 7 (attention) when one needs a person."""

    def body() -> int:
        from worktree_tools.core.errors import exit_code
        from worktree_tools.remote.sync import sync
        from worktree_tools.remote.transport import default_remote

        wt, name = _setup(agent)
        result = sync(
            wt,
            remote=remote or default_remote(wt),
            agent=name,
            all_worktrees=all_worktrees,
            lock_timeout=lock_timeout,
        )
        lines = []
        for w in result.worktrees:
            where = f"{w.branch or '(detached)'} in {w.worktree}"
            moved = f" {(w.before or '')[:12]} -> {(w.after or '')[:12]}"
            extra = moved if w.state.value == "fast_forwarded" else ""
            lines.append(f"{w.state.value}: {where}{extra}{': ' + w.detail if w.detail else ''}")
        emit(result.to_json(), as_json, "\n".join(lines))
        return exit_code(result.outcome)

    return run_guarded("git wt sync", as_json, body)


@click.group("lease")
def lease_group() -> None:
    """Leases on hot resources, with fencing tokens (see `git wt lease acquire --help`)."""


def _lease_text(data: dict[str, Any]) -> str:
    if data["state"] == "free":
        return f"{data['name']}: free ({data['where']})"
    if data["state"] == "corrupt":
        return f"{data['name']}: corrupt ({data['where']}): {data['error']}\n  fix: {data['fix']}"
    left = data["expires_in"]
    return (
        f"{data['name']}: {data['state']} by {data['holder']} on {data['host']}, token "
        f"{data['token']}, expires in {left:.0f}s ({data['where']})"
    )


def _lease_command(name: str) -> Callable[[Callable[..., Any]], Any]:
    """`git wt lease NAME` for a holder, written once: its options (--remote, --agent,
    --lock-timeout, --json); the named holder and the lease store resolved inside run_guarded;
    the decorated body called with (wt, store, holder, its own options) and the lease it
    returns printed. Put `lease_group.command` and the command's own options above."""

    def wrap(body: Callable[..., Any]) -> Any:
        @functools.wraps(body)
        def command(
            remote: str | None, agent: str | None, lock_timeout: float, as_json: bool, **own: Any
        ) -> int:
            def run() -> int:
                from worktree_tools.remote.store import open_store

                wt, who = _setup(agent, holder=True)
                result = body(wt, open_store(wt, remote, who, lock_timeout), who, **own)
                data = {"outcome": "ok", **result.to_json()}
                text = _lease_text(data)
                if result.took_over_from:
                    text += f" (took over from {result.took_over_from}, whose lease had expired)"
                emit(data, as_json, text)
                return 0

            return run_guarded(f"git wt lease {name}", as_json, run)

        return _lease_remote_opt(_agent_opt(_timeout_opt(_json_opt(command))))

    return wrap


@lease_group.command("acquire")
@click.argument("name")
@click.option("--ttl", type=TTL, required=True, help="Seconds the lease lasts unless renewed.")
@_lease_command("acquire")
def acquire_cmd(wt: Any, store: Any, who: str, name: str, ttl: float) -> Any:
    """Take lease NAME; print its fencing token. Exit 4 (conflict) while someone else holds it.

    An expired lease is taken over; the token is always the previous one + 1. Acquiring a lease
    you hold already renews it and keeps its token."""
    from worktree_tools.remote.lease import acquire

    return acquire(wt, store, name, agent=who, ttl=ttl)


@lease_group.command("renew")
@click.argument("name")
@click.option("--ttl", type=TTL, help="New TTL in seconds (default: the lease's).")
@click.option("--token", type=TOKEN, help="Refuse (exit 6) unless the lease still has this token.")
@_lease_command("renew")
def renew_cmd(
    wt: Any, store: Any, who: str, name: str, ttl: float | None, token: int | None
) -> Any:
    """Extend your lease NAME from now; the token stays."""
    from worktree_tools.remote.lease import renew

    return renew(wt, store, name, agent=who, ttl=ttl, token=token)


@lease_group.command("release")
@click.argument("name")
@click.option("--token", type=TOKEN, help="Refuse (exit 6) unless the lease still has this token.")
@_lease_command("release")
def release_cmd(wt: Any, store: Any, who: str, name: str, token: int | None) -> Any:
    """Release your lease NAME (its token history is kept: the next holder gets token + 1)."""
    from worktree_tools.remote.lease import release

    return release(wt, store, name, agent=who, token=token)


@lease_group.command("list")
@_lease_remote_opt
@_json_opt
def list_cmd(remote: str | None, as_json: bool) -> int:
    """Every lease, its state, holder and token."""

    def body() -> int:
        from worktree_tools.remote.lease import list_leases
        from worktree_tools.remote.store import open_store

        wt, who = _setup(None)
        store = open_store(wt, remote, who, 30.0)
        leases = [v.to_json() for v in list_leases(store)]
        text = "\n".join(_lease_text(d) for d in leases) or f"no leases ({store.where})"
        emit({"outcome": "ok", "where": store.where, "leases": leases}, as_json, text)
        return 0

    return run_guarded("git wt lease list", as_json, body)


COMMANDS = [sync_cmd, lease_group]
