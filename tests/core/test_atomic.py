"""core.atomic: the one atomic writer of files and links (hook checkouts, dependency mirrors)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from worktree_tools.core import atomic


def test_copy_file_replaces_the_target_whole_with_the_mode_asked(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(os.urandom(3 << 20))  # several chunks
    dst = tmp_path / "dst"
    dst.write_bytes(b"old")
    atomic.copy_file(src, dst, durable=True, mode=0o444)
    assert dst.read_bytes() == src.read_bytes()
    assert stat.S_IMODE(dst.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dst", "src"]  # no temporary left


def test_symlink_replaces_a_link_in_one_rename(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    link = tmp_path / "node_modules"
    atomic.symlink(link, one)
    assert os.readlink(link) == os.fspath(one)
    inode = os.lstat(link).st_ino
    (tmp_path / f".node_modules.{os.getpid()}.tmp").symlink_to(one)  # a killed run's leftover
    atomic.symlink(link, two)
    assert os.readlink(link) == os.fspath(two) and os.lstat(link).st_ino != inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["node_modules", "one", "two"]
