"""`git wt mcp` driven by the official MCP Python SDK's own stdio client."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_WT, committed_files, git, head, write

mcp = pytest.importorskip("mcp", reason="the mcp extra (worktree-tools[mcp]) is not installed")

from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402


async def _session(repo: Path, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    params = StdioServerParameters(
        command=GIT_WT, args=["mcp"], cwd=os.fspath(repo), env=dict(os.environ)
    )
    out: list[Any] = []
    async with stdio_client(params) as (read, write_), ClientSession(read, write_) as session:
        await session.initialize()
        out.append(await session.list_tools())
        for name, args in calls:
            out.append(await session.call_tool(name, args))
    return out


def session(repo: Path, *calls: tuple[str, dict[str, Any]]) -> list[Any]:
    return asyncio.run(_session(repo, list(calls)))


def test_lists_tools_with_annotations(repo: Path) -> None:
    (tools,) = session(repo)
    by_name = {t.name: t for t in tools.tools}
    expected = {
        "commit", "alloc", "heartbeat", "release", "status", "show",
        "lease_acquire", "lease_release", "watch_once",
    }  # fmt: skip
    assert expected <= set(by_name)
    assert by_name["status"].annotations.read_only_hint is True
    assert by_name["watch_once"].annotations.read_only_hint is True
    assert by_name["commit"].annotations.read_only_hint is False
    assert by_name["heartbeat"].annotations.idempotent_hint is True
    props = by_name["commit"].input_schema["properties"]
    assert {"paths", "message", "agent"} <= set(props)


def test_commit_commits_only_the_named_paths(repo: Path) -> None:
    write(repo, "src/app.py", "print('mcp')\n")
    write(repo, "README", "someone else's staged work\n")
    git(repo, "add", "README")
    before = head(repo)
    _, result = session(
        repo, ("commit", {"paths": ["src/app.py"], "message": "via mcp", "agent": "bot"})
    )
    assert not result.is_error
    data = result.structured_content
    assert data["outcome"] == "committed" and data["agent"] == "bot"
    assert json.loads(result.content[0].text) == data  # the command's JSON object, as text too
    assert data["commit"] == head(repo) != before
    assert committed_files(repo) == ["src/app.py"]
    assert "README" in git(repo, "diff", "--cached", "--name-only")  # still staged, untouched


def test_refused_commit_is_an_error_result_with_error_and_fix(repo: Path) -> None:
    write(repo, "src/app.py", "print('x')\n")
    before = head(repo)
    _, empty, whole = session(
        repo,
        ("commit", {"paths": [], "message": "m"}),
        ("commit", {"paths": ["."], "message": "m"}),
    )
    for result in (empty, whole):
        assert result.is_error
        data = result.structured_content
        assert data["outcome"] == "invalid" and data["exit_code"] == 2
        assert data["error"] and data["fix"] == "wt-commit -m m -- src/app.py"
    assert head(repo) == before


def test_alloc_status_show_release_and_watch(repo: Path) -> None:
    _, alloc, status, release, show, watch, bad = session(
        repo,
        ("alloc", {"agent": "bot"}),
        ("status", {"agent": "bot"}),
        ("release", {"agent": "bot", "note": "half done", "next_step": "write tests"}),
        ("show", {"agent": "bot"}),
        ("watch_once", {}),
        ("show", {"agent": "nobody-here"}),
    )
    assert not alloc.is_error, alloc.structured_content
    assert not status.is_error and not release.is_error and not show.is_error
    assert show.structured_content["outcome"] == "ok"
    assert "half done" in json.dumps(show.structured_content)
    assert watch.structured_content["outcome"] in ("ok", "attention")
    assert bad.is_error and bad.structured_content["error"]


def test_leases(repo: Path) -> None:
    _, first, other, released = session(
        repo,
        ("lease_acquire", {"name": "deploy", "ttl": 60, "agent": "a1"}),
        ("lease_acquire", {"name": "deploy", "ttl": 60, "agent": "a2"}),
        ("lease_release", {"name": "deploy", "agent": "a1"}),
    )
    assert not first.is_error, first.structured_content
    assert other.is_error and other.structured_content["exit_code"] == 4
    assert not released.is_error, released.structured_content
