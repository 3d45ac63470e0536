"""`git wt mcp`: serve the toolkit's commands as MCP tools over stdio."""

from __future__ import annotations

from pathlib import Path

import click

from worktree_tools.cli._common import run_guarded


@click.command("mcp")
def mcp_cmd() -> int:
    """Run a Model Context Protocol server on stdin/stdout (needs worktree-tools[mcp])."""

    def body() -> int:
        from worktree_tools.core.errors import InvalidInput

        try:
            from worktree_tools.mcpserver.server import serve
        except ImportError as exc:
            raise InvalidInput(
                f"the MCP server needs the official MCP Python SDK ({exc})",
                fix="pip install 'worktree-tools[mcp]'",
            ) from None
        serve(Path.cwd())
        return 0

    return run_guarded("git wt mcp", False, body)
