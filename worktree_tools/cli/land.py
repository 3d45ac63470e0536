"""`git wt land`: the merge queue (see docs/land.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from worktree_tools.cli._common import SECONDS, Number, emit, run_guarded, timeout_option
from worktree_tools.core.fields import MAX_INT, MAX_WAIT

PREFIX = "wt:"
CHECK_TIMEOUT = Number(float, lo=0, lo_open=True, hi=MAX_WAIT)
BATCH = Number(int, lo=1, hi=MAX_INT, unit="a count")
# Which outcome speaks for a run of several requests: the one that needs attention most.
_PRIORITY = ["check_failed", "conflict", "cancelled", "queued", "landed", "unchanged"]


def summary(req: Any) -> dict[str, Any]:
    """One request as the JSON contract shows it."""
    from worktree_tools.core.errors import Outcome, exit_code

    r = req.result
    data: dict[str, Any] = {
        "request": req.id,
        "outcome": req.state.value if req.state.final else "queued",
        "state": req.state.value,
        "branch": req.branch,
        "agent": req.agent,
        "target": req.target,
        "remote": req.remote,
        "strategy": req.strategy.value,
        "check": req.check,
        "head": req.head,
        "commit": r.get("commit"),
        "old": r.get("old"),
        "enqueued_at": req.to_json()["enqueued_at"],
        "enqueued_epoch": req.enqueued_epoch,
        "finished_at": req.to_json()["finished_at"],
        "finished_epoch": req.finished_epoch,
        "requested_by": req.requested_by,
        "stage": req.stage,
        "lander_pid": req.lander.pid if req.lander else None,
        "paths": r.get("paths"),
        "check_tail": r.get("check_tail"),
        "checkouts": r.get("checkouts") or [],
        "handback": r.get("handback"),
        "error": r.get("error"),
        "fix": r.get("fix"),
    }
    code = exit_code(Outcome(data["outcome"]))
    if code:
        data["exit_code"] = code
    return data


def _overall(rows: list[dict[str, Any]]) -> str:
    outcomes = {row["outcome"] for row in rows}
    return next((o for o in _PRIORITY if o in outcomes), "unchanged")


def _text(row: dict[str, Any]) -> str:
    o, rid = row["outcome"], row["request"]
    where = f"{row['remote']}/{row['target']}" if row["remote"] else row["target"]
    if o == "landed":
        return f"landed {row['branch']} into {where} at {str(row['commit'])[:12]} (request {rid})"
    if o == "unchanged":
        return f"unchanged: {row['branch']} is already in {where} (request {rid})"
    if o == "queued":
        return f"queued {row['branch']} for {where} as request {rid}"
    if o == "cancelled":
        return f"cancelled request {rid} ({row['branch']} into {where})"
    return f"{o}: {row['error']} (request {rid})"


@click.command("land")
@click.argument("names", nargs=-1)
@click.option("--into", help="Target branch (default: wt.land.into, else the agent's base).")
@click.option(
    "--strategy",
    type=click.Choice(["rebase", "squash", "merge"]),
    help="How the branch is integrated (default: wt.land.strategy, else rebase).",
)
@click.option("--check", help="Shell command run on the integrated tree (default: wt.land.check).")
@click.option(
    "--check-timeout",
    type=CHECK_TIMEOUT,
    help="Seconds before the check is killed and fails (default: wt.land.checkTimeout).",
)
@click.option("--batch", type=BATCH, help="Land up to N requests per check.")
@click.option("--push", is_flag=True, help="The target is the remote's branch.")
@click.option("--remote", help="Remote for --push (default: origin).")
@click.option("--wait/--no-wait", default=True, help="Wait for the outcome (default) or queue.")
@click.option("--list", "list_", is_flag=True, help="Show the queued and landing requests.")
@click.option("--all", "all_", is_flag=True, help="With --list: finished requests too.")
@click.option("--cancel", metavar="ID", help="Cancel a queued request.")
@click.option(
    "--run", "run_", is_flag=True, help="Land the queue of --into now (what --no-wait starts)."
)
@click.option("--agent", help="Who is asking (default: $WT_AGENT, else git-wt).")
@click.option(
    "--lock-timeout", type=SECONDS, callback=timeout_option, help="Seconds to wait for a lock."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def land_cmd(
    names: tuple[str, ...],
    into: str | None,
    strategy: str | None,
    check: str | None,
    check_timeout: float | None,
    batch: int | None,
    push: bool,
    remote: str | None,
    wait: bool,
    list_: bool,
    all_: bool,
    cancel: str | None,
    run_: bool,
    agent: str | None,
    lock_timeout: float,
    as_json: bool,
) -> int:
    """Land AGENT or BRANCH (default: this worktree's branch) into --into, through a queue.

    \b
    git wt land alice --into main --check 'make test'   # wait for landed/conflict/check_failed
    git wt land alice bob --into main --batch 4 --no-wait
    git wt land --list            # who, what, since when, state
    git wt land --cancel 17
    """

    def body() -> int:
        import os

        from worktree_tools.core.errors import InvalidInput, Outcome, exit_code
        from worktree_tools.core.repo import discover
        from worktree_tools.land import requests as rq
        from worktree_tools.land import submit
        from worktree_tools.land.requests import Strategy

        wt = discover(Path.cwd())
        actor = agent or os.environ.get("WT_AGENT") or "git-wt"
        target_remote = (remote or "origin") if push else None
        if remote and not push:
            raise InvalidInput(
                "--remote goes with --push", fix="git wt land NAME --push --remote NAME"
            )
        if list_ or cancel:
            if names or (list_ and cancel):
                raise InvalidInput("--list and --cancel take no branch", fix="git wt land --list")
            if cancel:
                req = rq.cancel(wt.state_dir, cancel, actor, time.monotonic() + lock_timeout)
                row = summary(req)
                emit({"schema_version": 1, **row, "requests": [row]}, as_json, _text(row))
                return 0 if req.state.value == "cancelled" else exit_code(Outcome(row["outcome"]))
            reqs, bad = rq.load_all(wt.state_dir)
            rows = [summary(r) for r in reqs if all_ or not r.state.final]
            lines = [
                f"{row['request']:>5} {row['state']:<12} {row['branch']} -> {row['target']} "
                f"since {row['enqueued_at']} by {row['requested_by']}"
                for row in rows
            ]
            emit(
                {
                    "schema_version": 1,
                    "outcome": "ok",
                    "requests": rows,
                    "corrupt": [{"error": e.message, "fix": e.fix} for e in bad],
                },
                as_json,
                "\n".join(lines) or "the land queue is empty",
            )
            for e in bad:
                click.echo(f"git wt land: {e.message}\ngit wt land: fix: {e.fix}", err=True)
            return 0
        size = submit.batch_size(wt, batch)
        if run_:
            if not into:
                raise InvalidInput("--run needs --into", fix="git wt land --run --into main")
            ran = submit.run(wt, into, target_remote, actor, size, lock_timeout)
            emit(
                {"schema_version": 1, "outcome": "ok", "ran": ran, "requests": []},
                as_json,
                "landed the queue" if ran else "another lander is at work",
            )
            return 0
        opts = submit.Options(
            into=into,
            strategy=Strategy(strategy) if strategy else None,
            check=check,
            check_timeout=check_timeout,
            batch=size,
            remote=target_remote,
            agent=actor,
            lock_timeout=lock_timeout,
        )
        reqs = [
            r for r, _new in submit.submit(wt, submit.build(wt, list(names), opts), lock_timeout)
        ]
        if not wait:
            if submit.autostart(wt):
                for key in dict.fromkeys(r.key for r in reqs):
                    submit.spawn_lander(wt, key[0], key[1], actor, size)
            done = [rq.load(wt.state_dir, r.id) or r for r in reqs]
        else:
            done = submit.wait(wt, reqs, actor, size, lock_timeout)
        rows = [summary(r) for r in done]
        outcome = _overall(rows)
        code = exit_code(Outcome(outcome))
        payload: dict[str, Any] = {
            "schema_version": 1,
            **rows[0],
            "outcome": outcome,
            "requests": rows,
        }
        if code:
            payload["exit_code"] = code
            bad_row = next(r for r in rows if r["outcome"] == outcome)
            payload["error"], payload["fix"] = bad_row["error"], bad_row["fix"]
        else:
            payload.pop("exit_code", None)
        emit(payload, as_json, "\n".join(_text(r) for r in rows))
        for row in rows:
            _stderr(row)
        return code

    return run_guarded("git wt land", as_json, body)


def _stderr(row: dict[str, Any]) -> None:
    if row["outcome"] == "landed" and row["old"] and not row["remote"]:
        click.echo(
            f"{PREFIX} {row['target']} moved {str(row['old'])[:12]} -> {str(row['commit'])[:12]}; "
            f"undo: git update-ref refs/heads/{row['target']} {row['old']} {row['commit']}",
            err=True,
        )
    for co in row["checkouts"]:
        if co.get("left_alone"):
            click.echo(
                f"{PREFIX} {co['worktree']} follows {row['target']}; paths with local changes "
                f"left alone: {', '.join(co['left_alone'][:20])}",
                err=True,
            )
    if row.get("exit_code"):
        click.echo(f"git wt land: {row['outcome']}: {row['error']}", err=True)
        if row.get("fix"):
            click.echo(f"git wt land: fix: {row['fix']}", err=True)
        hb = row.get("handback") or {}
        if hb.get("written"):
            click.echo(
                f"{PREFIX} handed back to {hb['agent']} (git wt show {hb['agent']})", err=True
            )
