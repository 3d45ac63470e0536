"""The MCP server (official Python SDK 2.x, `MCPServer`) exposing the toolkit's commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from worktree_tools.core.errors import WtError, exit_code
from worktree_tools.mcpserver import commands
from worktree_tools.mcpserver.commands import Answer, optional

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)
IDEMPOTENT = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False)


def _result(answer: Answer) -> CallToolResult:
    import json

    text = json.dumps(answer.payload, ensure_ascii=False, default=str)
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=answer.payload,
        is_error=answer.is_error,
    )


def _refused(err: WtError) -> CallToolResult:
    payload = {
        "schema_version": 1,
        "outcome": err.outcome.value,
        "error": err.message,
        "fix": err.fix,
        "exit_code": exit_code(err.outcome),
    }
    return _result(Answer(payload, True))


def build(start: Path) -> MCPServer[Any]:
    """The server; every tool runs in `start` unless given a `worktree` directory."""
    app: MCPServer[Any] = MCPServer(
        "worktree-tools",
        instructions=(
            "Commit with the `commit` tool (it commits exactly the named paths, never the "
            "shared index); get your own worktree with `alloc`, keep it with `heartbeat`, leave "
            "a handoff with `release`. Refusals are error results with `error` and `fix`."
        ),
    )

    def call(args: list[str], worktree: str | None) -> CallToolResult:
        try:
            cwd = commands.workdir(worktree, start)
        except WtError as err:
            return _refused(err)
        return _result(commands.run(args, cwd))

    @app.tool(annotations=IDEMPOTENT)
    def commit(
        paths: list[str], message: str, agent: str | None = None, worktree: str | None = None
    ) -> CallToolResult:
        """Commit exactly PATHS (relative to the worktree) with MESSAGE, through wt-commit's
        private index: nothing else staged by anyone is committed."""
        return call(commands.commit_args(paths, message, agent), worktree)

    @app.tool(annotations=WRITES)
    def alloc(
        agent: str,
        base: str | None = None,
        branch: str | None = None,
        task: str | None = None,
        ttl: float | None = None,
        worktree: str | None = None,
    ) -> CallToolResult:
        """Give AGENT a worktree of its own (`git wt alloc`), leased for TTL seconds."""
        args = ["alloc", agent, "--json", *optional("--base", base)]
        args += [*optional("--branch", branch), *optional("--task", task), *optional("--ttl", ttl)]
        return call(args, worktree)

    @app.tool(annotations=IDEMPOTENT)
    def heartbeat(
        agent: str, ttl: float | None = None, worktree: str | None = None
    ) -> CallToolResult:
        """Renew AGENT's worktree lease (`git wt heartbeat`)."""
        return call(["heartbeat", agent, "--json", *optional("--ttl", ttl)], worktree)

    @app.tool(annotations=WRITES)
    def release(
        agent: str,
        state: str = "handoff",
        note: str | None = None,
        next_step: str | None = None,
        blockers: list[str] | None = None,
        assumptions: list[str] | None = None,
        worktree: str | None = None,
    ) -> CallToolResult:
        """Release AGENT's worktree (state done|blocked|handoff), leaving a handoff record:
        what remains (note), the next step, blockers and assumptions."""
        args = commands.release_args(
            agent, state, note, next_step, blockers or [], assumptions or []
        )
        return call(args, worktree)

    @app.tool(annotations=READ_ONLY)
    def status(agent: str | None = None, worktree: str | None = None) -> CallToolResult:
        """Worktrees and their leases (`git wt status [AGENT]`)."""
        return call(["status", *([agent] if agent else []), "--json"], worktree)

    @app.tool(annotations=READ_ONLY)
    def show(agent: str, worktree: str | None = None) -> CallToolResult:
        """AGENT's record and handoff (`git wt show`)."""
        return call(["show", agent, "--json"], worktree)

    @app.tool(annotations=IDEMPOTENT)
    def lease_acquire(
        name: str,
        ttl: float,
        agent: str | None = None,
        remote: str | None = None,
        worktree: str | None = None,
    ) -> CallToolResult:
        """Take lease NAME for TTL seconds; returns its fencing token (a lease you hold is
        renewed with the same token). Held by someone else: an error result (conflict)."""
        args = ["lease", "acquire", name, "--ttl", str(ttl), "--json"]
        args += [*optional("--agent", agent), *optional("--remote", remote)]
        return call(args, worktree)

    @app.tool(annotations=WRITES)
    def lease_release(
        name: str,
        token: int | None = None,
        agent: str | None = None,
        remote: str | None = None,
        worktree: str | None = None,
    ) -> CallToolResult:
        """Release lease NAME (refused unless TOKEN, when given, is still its token)."""
        args = ["lease", "release", name, "--json", *optional("--token", token)]
        args += [*optional("--agent", agent), *optional("--remote", remote)]
        return call(args, worktree)

    @app.tool(annotations=READ_ONLY)
    def watch_once(worktree: str | None = None) -> CallToolResult:
        """One scan of `git wt watch`: stale locks, expired leases, stuck hooks; outcome
        `attention` (exit_code 7) when something needs a look."""
        return call(["watch", "--once", "--json"], worktree)

    return app


def serve(start: Path) -> None:
    build(start).run("stdio")
