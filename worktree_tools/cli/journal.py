"""`git wt journal`: check, verify, checkpoint, append, pre-push."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from worktree_tools.cli._common import SECONDS, emit, run_guarded


@click.group("journal", context_settings={"help_option_names": ["-h", "--help"]})
def journal_group() -> None:
    """The append-only journal: check, verify, checkpoint, append."""


@journal_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def check_cmd(as_json: bool) -> int:
    """Check the staged change (the pre-commit hook): the index against HEAD and MERGE_HEAD."""

    def body() -> int:
        from worktree_tools.core.repo import discover
        from worktree_tools.journal.staged import check

        cwd = Path.cwd()
        result = check(discover(cwd), cwd)
        emit(result.to_json(), as_json, "")
        return 0

    return run_guarded("git wt journal check", as_json, body)


@journal_group.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--no-checkpoint", is_flag=True, help="Do not compare with the latest checkpoint.")
@click.option(
    "--accept-policy-change",
    "accept",
    metavar="COMMIT",
    multiple=True,
    help="Accept COMMIT's narrowing of .wtjournal (repeatable); recorded in the output and "
    "the event log.",
)
@click.option("--agent", help="Who accepts (default: $WT_AGENT, the worktree's owner, ...).")
@click.argument("range_spec", metavar="[OLD..NEW]", required=False)
def verify_cmd(
    as_json: bool,
    no_checkpoint: bool,
    accept: tuple[str, ...],
    agent: str | None,
    range_spec: str | None,
) -> int:
    """Verify every commit of OLD..NEW against every parent (default: all of HEAD's history).

    \b
    git wt journal verify                      # the whole history of HEAD
    git wt journal verify origin/main..HEAD    # what a push adds
    git wt journal verify --accept-policy-change C   # a person accepts C's .wtjournal change
    """

    def body() -> int:
        from worktree_tools.journal.verify import verify

        result = verify(Path.cwd(), range_spec, use_checkpoint=not no_checkpoint, accept=accept)
        text = f"journal ok: {result.commits} commit(s), {result.merges} merge(s) verified" + (
            " against the latest checkpoint" if result.checkpoint else ""
        )
        for line in _record_accepted(result.accepted, agent, "git wt journal verify"):
            text += "\n" + line
        emit(result.to_json(), as_json, text)
        return 0

    return run_guarded("git wt journal verify", as_json, body)


@journal_group.command("checkpoint")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--agent", help="Acting agent (default: $WT_AGENT, the worktree's owner, ...).")
@click.argument("rev", default="HEAD")
def checkpoint_cmd(as_json: bool, agent: str | None, rev: str) -> int:
    """Verify up to REV and record it: each file's size and sha256 and a chained digest."""

    def body() -> int:
        from worktree_tools.journal.checkpoint import record

        info = record(Path.cwd(), rev, agent)
        text = (
            f"checkpoint {info['ref_commit'][:12]} of {info['verified_commit'][:12]}: "
            f"{info['files']} file(s), digest {info['digest'][:16]} on {info['ref']}"
        )
        emit(info, as_json, text)
        return 0

    return run_guarded("git wt journal checkpoint", as_json, body)


@journal_group.command("append")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--agent", help="Acting agent (default: $WT_AGENT, the worktree's owner, ...).")
@click.option("--topic", help="A few words; part of the file name (default: note).")
@click.option(
    "--lock-timeout", type=SECONDS, default=30.0, show_default=True, help="Seconds to wait."
)
@click.argument("text", required=False)
def append_cmd(
    as_json: bool, agent: str | None, topic: str | None, lock_timeout: float, text: str | None
) -> int:
    """Write TEXT ('-' or nothing: stdin) to your own journal entry and commit it.

    \b
    git wt journal append --agent ana --topic parser "Found the bug in tokenize()."
    make test 2>&1 | tail -5 | git wt journal append --topic tests -
    """

    def body() -> int:
        from worktree_tools.journal.append import append

        content = text
        if content is None or content == "-":
            content = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
        result = append(Path.cwd(), content, agent, topic, lock_timeout)
        verb = "created" if result.created else "appended to"
        emit(result.to_json(), as_json, f"{verb} {result.path} ({(result.commit or '')[:12]})")
        return 0

    return run_guarded("git wt journal append", as_json, body)


@journal_group.command("pre-push")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--from-env", is_flag=True, help="Read the update from the pre-commit framework's variables."
)
@click.argument("remote", required=False, default="origin")
@click.argument("url", required=False)
def pre_push_cmd(as_json: bool, from_env: bool, remote: str, url: str | None) -> int:
    """The pre-push hook: ref updates on stdin, as git passes them."""

    def body() -> int:
        import os

        from worktree_tools.journal import prepush

        if from_env:
            remote_name = os.environ.get("PRE_COMMIT_REMOTE_NAME", remote)
            result = prepush.check_push(Path.cwd(), remote_name, prepush.from_env())
        else:
            lines = [ln for ln in sys.stdin.read().splitlines() if ln.strip()]
            updates = [prepush.RefUpdate.parse(ln) for ln in lines]
            result = prepush.check_push(Path.cwd(), remote, updates)
        from worktree_tools.journal.rules import Kind, Violation

        taken = [
            Violation(v["path"], Kind(v["kind"]), v["detail"], v["commit"], v["parent"])
            for ref in result.checked
            for v in ref.get("accepted", [])
        ]
        for line in _record_accepted(taken, None, "git wt journal pre-push"):
            click.echo(line, err=True)
        emit(result.to_json(), as_json, "")
        return 0

    return run_guarded("git wt journal pre-push", as_json, body)


def _record_accepted(taken: list[Any], agent: str | None, command: str) -> list[str]:
    """One event per accepted policy change (who accepted which commit's narrowing), and the
    lines that say so."""
    if not taken:
        return []
    from worktree_tools.core import agent as agent_mod
    from worktree_tools.core import events
    from worktree_tools.core.repo import discover

    wt = discover(Path.cwd())
    name, _ = agent_mod.resolve(agent, wt.gitdir)
    lines = []
    for v in taken:
        events.append(
            wt.state_dir,
            "journal_policy_change_accepted",
            name,
            commit=v.commit,
            parent=v.parent,
            detail=v.detail,
            by=command,
        )
        lines.append(f"accepted policy change {v.commit[:12]}: {v.detail}")
    return lines
