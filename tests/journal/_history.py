"""Build real git histories quickly, in-process, with pygit2 (objects and refs as git writes
them); the checks under test then read them like any other repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pygit2

FILE = 0o100644
EXEC = 0o100755
LINK = 0o120000
GITLINK = 0o160000

Files = dict[str, tuple[int, bytes]]


class History:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.repo = pygit2.init_repository(str(path), initial_head="main")
        self.sig = pygit2.Signature("Test Agent", "agent@example.com", 1_700_000_000, 0)
        self.tick = 0

    def tree(self, files: Files) -> Any:
        return self._tree({tuple(p.split("/")): v for p, v in files.items()})

    def _tree(self, files: dict[tuple[str, ...], tuple[int, bytes]]) -> Any:
        builder = self.repo.TreeBuilder()
        subdirs: dict[str, dict[tuple[str, ...], tuple[int, bytes]]] = {}
        for parts, (mode, data) in files.items():
            if len(parts) == 1 and mode == GITLINK:  # data: the submodule commit's hex id
                builder.insert(parts[0], pygit2.Oid(hex=data.decode()), mode)
            elif len(parts) == 1:
                builder.insert(parts[0], self.repo.create_blob(data), mode)
            else:
                subdirs.setdefault(parts[0], {})[parts[1:]] = (mode, data)
        for name, sub in subdirs.items():
            builder.insert(name, self._tree(sub), pygit2.enums.FileMode.TREE)
        return builder.write()

    def commit(
        self, files: Files, parents: list[Any], message: str = "c", ref: str | None = None
    ) -> Any:
        self.tick += 1
        sig = pygit2.Signature("Test Agent", "agent@example.com", 1_700_000_000 + self.tick, 0)
        oid = self.repo.create_commit(ref, sig, sig, message, self.tree(files), parents)
        return oid

    def set_ref(self, name: str, oid: Any) -> None:
        self.repo.references.create(name, oid, force=True)


def linear(h: History, states: list[Files]) -> list[Any]:
    """One commit per state, each on the previous; `main` at the last."""
    oids: list[Any] = []
    for files in states:
        oids.append(h.commit(files, oids[-1:]))
    h.set_ref("refs/heads/main", oids[-1])
    return oids
