"""`wt-commit` / `git wt commit`."""

from __future__ import annotations

from pathlib import Path

import click

from worktree_tools.cli._common import COUNT, SECONDS, emit, run_guarded, timeout_option
from worktree_tools.core.errors import Outcome, exit_code


def _reject_all(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        raise click.UsageError(
            "wt-commit never commits everything: name the paths (`-- PATH...`); "
            "to commit the whole worktree on purpose use --commit-whole-tree"
        )
    return value


@click.command(
    "commit",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("-m", "--message", "messages", multiple=True, help="Message (repeat for paragraphs).")
@click.option("-F", "--file", "message_file", help="Read the message from FILE ('-': stdin).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--lock-timeout",
    type=SECONDS,
    default=None,
    callback=timeout_option,
    show_default="30, or $WT_LOCK_TIMEOUT",
    help="Seconds to wait for the locks.",
)
@click.option("--agent", help="Acting agent (default: $WT_AGENT, the worktree's owner, user@host).")
@click.option("-n", "--no-verify", is_flag=True, help="Skip the pre-commit and commit-msg hooks.")
@click.option("-S", "--gpg-sign", "gpg_sign", is_flag=True, help="Sign the commit.")
@click.option("--gpg-key", help="Sign with this key (implies --gpg-sign).")
@click.option("--no-gpg-sign", is_flag=True, help="Do not sign, whatever commit.gpgSign says.")
@click.option(
    "--hooks",
    "hooks_mode",
    type=click.Choice(["auto", "isolated", "in-place"]),
    help="Where hooks run: an isolated checkout, or in place (default auto: in place only in "
    "a worktree the agent owns; config wt.hooks).",
)
@click.option(
    "--revalidate",
    is_flag=True,
    help="When the branch moved during hooks, re-run pre-commit on the replayed commit.",
)
@click.option(
    "--commit-whole-tree",
    is_flag=True,
    help="Allow a path that names the whole worktree ('.'). Off by default, on purpose.",
)
@click.option(
    "-a", "--all", "all_", is_flag=True, hidden=True, callback=_reject_all, expose_value=False
)
@click.option(
    "--push",
    is_flag=True,
    help="Then push to the remote branch of the same name (never forced; replayed onto a moved "
    "remote when none of its paths changed there).",
)
@click.option("--remote", help="Remote for --push and --fence (default: the branch's, or origin).")
@click.option(
    "--retries",
    type=COUNT,
    default=30,
    show_default=True,
    help="With --push: how many times to fetch, replay and push again.",
)
@click.option(
    "--fence",
    metavar="NAME:TOKEN",
    help="Refuse unless TOKEN is lease NAME's current fencing token.",
)
@click.argument("paths", nargs=-1, type=click.UNPROCESSED)
def commit_cmd(
    messages: tuple[str, ...],
    message_file: str | None,
    as_json: bool,
    lock_timeout: float,
    agent: str | None,
    no_verify: bool,
    gpg_sign: bool,
    gpg_key: str | None,
    no_gpg_sign: bool,
    hooks_mode: str | None,
    revalidate: bool,
    commit_whole_tree: bool,
    push: bool,
    remote: str | None,
    retries: int,
    fence: str | None,
    paths: tuple[str, ...],
) -> int:
    """Commit exactly PATHS from this worktree onto its branch, and nothing else.

    \b
    wt-commit -m "fix parser" -- src/parser.py tests/test_parser.py
    """

    def body() -> int:
        from worktree_tools.commit.run import CommitRequest, run

        sign: str | None = None
        if no_gpg_sign:
            sign = "no"
        elif gpg_key:
            sign = gpg_key
        elif gpg_sign:
            sign = ""
        req = CommitRequest(
            paths=paths,
            cwd=Path.cwd(),
            messages=messages,
            message_file=message_file,
            agent=agent,
            lock_timeout=lock_timeout,
            no_verify=no_verify,
            whole_tree=commit_whole_tree,
            sign=sign,
            hooks=hooks_mode,
            revalidate=revalidate,
        )
        pushed = None
        if push or fence or remote is not None:
            from worktree_tools.remote.commit import RemoteOptions, commit_and_push

            opts = RemoteOptions(push=push, remote=remote, retries=retries, fence=fence)
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
            click.echo(f"wt-commit: warning: {warning}", err=True)
        payload = result.to_json()
        if pushed is not None:
            payload["push"] = pushed.to_json()
            how = f" (replayed, {pushed.retries} retries)" if pushed.pushed != pushed.commit else ""
            text += f"; pushed {pushed.pushed[:12]} to {pushed.remote}/{pushed.branch}{how}"
            if pushed.note:
                click.echo(f"wt-commit: note: {pushed.note}", err=True)
        emit(payload, as_json, text)
        return exit_code(result.outcome)

    return run_guarded("wt-commit", as_json, body)
