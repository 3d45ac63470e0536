"""Fixtures of the remote tests: a git daemon and a seeded repository on it. Only new names,
so nothing here overrides tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import Server, git_daemon, make_bare, no_force_policy


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with git_daemon(tmp_path / "srv") as srv:
        yield srv


@pytest.fixture
def origin(server: Server, repo: Path) -> str:
    """The `repo` fixture's main branch on the server, which refuses non-fast-forwards."""
    url = make_bare(server, "origin.git", repo)
    no_force_policy(server.bare("origin.git"))
    return url
