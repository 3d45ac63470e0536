"""`git wt move`, `slot` and `trust`: where worktrees live and their environments (see
docs/environments.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from worktree_tools.cli._common import emit, run_guarded


@click.command("move")
@click.argument("agent")
@click.argument("directory", required=False)
@click.option("--force", is_flag=True, help="Move it even while its owner process is alive.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def move_cmd(agent: str, directory: str | None, force: bool, as_json: bool) -> int:
    """Move AGENT's worktree to DIRECTORY (default: wt.worktreeDir/AGENT, else
    ../REPO.worktrees/AGENT): git's registry, the record and the lock together."""

    def body() -> int:
        from worktree_tools.worktrees.common import open_repo
        from worktree_tools.worktrees.move import move

        result = move(open_repo(Path.cwd()), agent, directory, Path.cwd(), force=force)
        if result.moved:
            # git wt refuses a destination inside .git; git itself does not, and git wt follows
            undo = f"git worktree move -f -f {result.record.path} {result.source}"
            click.echo(
                f"wt: moved {agent}'s worktree {result.source} -> {result.record.path}; "
                f"undo with: {undo}",
                err=True,
            )
        emit(result.to_json(), as_json, result.record.path)
        return 0

    return run_guarded("git wt move", as_json, body)


@click.command("slot")
@click.argument("agent")
@click.argument("name")
@click.option("--range", "range_", help="LOW-HIGH (default: wt.slot.NAME.range, else 3000-3999).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def slot_cmd(agent: str, name: str, range_: str | None, as_json: bool) -> int:
    """Give AGENT a number for NAME (a port, a database, a display) that no other live agent
    holds; print it. Written to <worktree>/.wt/env as WT_PORT_<NAME>."""

    def body() -> int:
        from worktree_tools.core.agent import check_name
        from worktree_tools.env import slots, wtdir
        from worktree_tools.worktrees.common import open_repo
        from worktree_tools.worktrees.records import require

        check_name(agent)
        wanted = slots.parse_range(range_) if range_ is not None else None
        repo = open_repo(Path.cwd(), agent)
        with repo.agent_lock(agent):
            taken = slots.take(repo, agent, name, wanted)
            rec = require(repo.state_dir, agent)
            env_file = None
            if Path(rec.path).is_dir():
                env_file = wtdir.write_env(Path(rec.path), agent, slots.of_agent(repo, agent))
        payload = {
            **taken.to_json(),
            "worktree": rec.path,
            "env_file": str(env_file) if env_file else None,
        }
        if taken.taken_over_from:
            click.echo(
                f"wt: took {name} {taken.slot.number} over from {taken.taken_over_from} "
                "(its owner is dead or its lease expired)",
                err=True,
            )
        emit(payload, as_json, str(taken.slot.number))
        return 0

    return run_guarded("git wt slot", as_json, body)


@click.command("trust")
@click.option("--yes", is_flag=True, help="Approve without asking (you, a person, read them).")
@click.option("--revoke", is_flag=True, help="Forget every approval for this repository.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def trust_cmd(yes: bool, revoke: bool, as_json: bool) -> int:
    """Approve the setup/teardown commands of this worktree's .wtconfig on this machine.
    Approval is for that exact file: any change asks again."""

    def body() -> int:
        from worktree_tools.core.errors import InvalidInput
        from worktree_tools.core.repo import discover
        from worktree_tools.env import trust

        wt = discover(Path.cwd())
        if revoke:
            gone = trust.revoke(wt.commondir)
            payload = {"schema_version": 1, "outcome": "ok" if gone else "unchanged"}
            emit(payload, as_json, "approvals revoked" if gone else "nothing was approved")
            return 0
        cfg = trust.read_config(wt.toplevel)
        state = trust.status(wt.commondir, cfg)
        base = {"schema_version": 1, "worktree": str(wt.toplevel)}
        if cfg is None or state is trust.Trust.NONE:
            emit(
                {**base, "outcome": "unchanged", "trust": state.value, "config": None},
                as_json,
                "no setup or teardown commands in .wtconfig",
            )
            return 0
        if state is trust.Trust.TRUSTED:
            emit(
                {**base, "outcome": "unchanged", "trust": state.value, "config": cfg.to_json()},
                as_json,
                f"already approved: {cfg.path} ({cfg.sha256[:12]})",
            )
            return 0
        listing = "\n".join(
            [f"  setup:    {c}" for c in cfg.setup] + [f"  teardown: {c}" for c in cfg.teardown]
        )
        if not yes:
            if not sys.stdin.isatty() or as_json:
                raise InvalidInput(
                    f"{cfg.path} ({state.value}) asks to run:\n{listing}\n"
                    "a person must approve it; nothing was approved",
                    fix="git wt trust --yes (after reading the commands)",
                    trust=state.value,
                    config=cfg.to_json(),
                )
            click.echo(f"{cfg.path} ({state.value}) asks to run:\n{listing}", err=True)
            if not click.confirm("Run these commands in new worktrees on this machine?"):
                emit(
                    {**base, "outcome": "unchanged", "trust": state.value}, as_json, "not approved"
                )
                return 0
        trust.approve(wt.commondir, cfg)
        emit(
            {**base, "outcome": "ok", "trust": "trusted", "config": cfg.to_json()},
            as_json,
            f"approved {cfg.path} ({cfg.sha256[:12]})",
        )
        return 0

    return run_guarded("git wt trust", as_json, body)


COMMANDS = [move_cmd, slot_cmd, trust_cmd]
