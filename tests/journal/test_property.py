"""Property-based, in the style of transparency-log tests: random histories of valid appends
(new entries, appends, empty commits, merges of disjoint entries) always verify; any single
tampering on top of one is always caught, at the tampering commit. Both rule engines (the
history walk (diff-tree streams) and wt-commit's gate (flat listings)) agree on every commit."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worktree_tools.core.errors import JournalViolation
from worktree_tools.core.repo import discover
from worktree_tools.journal.config import JournalConfig
from worktree_tools.journal.gate import check_trees
from worktree_tools.journal.history import check_pair
from worktree_tools.journal.verify import verify

from ._history import EXEC, FILE, LINK, Files, History

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
text = st.text(
    alphabet=st.characters(
        blacklist_categories=["Cs"], blacklist_characters="\r\0\ufeff", max_codepoint=0x2FFF
    ),
    min_size=1,
    max_size=12,
).map(lambda s: s.encode())
names = st.from_regex(r"[a-z]{1,6}", fullmatch=True)

op = st.one_of(
    st.tuples(st.just("append"), st.integers(0, 50), text),
    st.tuples(st.just("new"), names, text),
    st.tuples(st.just("empty")),
    st.tuples(st.just("other"), text),
    st.tuples(st.just("merge"), names, names, text),
)


def build(h: History, ops: list[tuple[Any, ...]]) -> tuple[list[Any], Files]:
    files: Files = {"journal/seed.md": (FILE, b"seed\n"), "src.txt": (FILE, b"0")}
    tip = h.commit(files, [])
    commits = [tip]
    for o in ops:
        kind = o[0]
        if kind == "append":
            paths = sorted(p for p in files if p.startswith("journal/"))
            path = paths[o[1] % len(paths)]
            files = {**files, path: (FILE, files[path][1] + o[2])}
        elif kind == "new":
            path = f"journal/{o[1]}-{len(commits)}.md"
            files = {**files, path: (FILE, o[2])}
        elif kind == "other":
            files = {**files, "src.txt": (FILE, o[1])}
        elif kind == "merge":
            left = {**files, f"journal/l-{o[1]}-{len(commits)}.md": (FILE, o[3])}
            right = {**files, f"journal/r-{o[2]}-{len(commits)}.md": (FILE, o[3] + b"!")}
            lc, rc = h.commit(left, [tip]), h.commit(right, [tip])
            files = {**left, **right}
            tip = h.commit(files, [lc, rc])
            commits.append(tip)
            continue
        tip = h.commit(files, [tip])
        commits.append(tip)
    h.set_ref("refs/heads/main", tip)
    return commits, files


def violations(path: Path, spec: str | None = None) -> list[dict[str, Any]]:
    try:
        verify(path, spec)
    except JournalViolation as err:
        return list(err.details["violations"])
    return []


def engines_agree(h: History, commits: list[Any]) -> None:
    wt = discover(h.path)
    cfg = JournalConfig()
    for oid in commits:
        c: Any = h.repo[oid]
        for parent in c.parents or [None]:
            pid = str(parent.id) if parent is not None else None
            walk = {(v.path, v.kind) for v in check_pair(h.repo, cfg, str(oid), pid)}
            flat = {
                (v.path, v.kind)
                for v in check_trees(wt, [str(parent.id)] if parent else [], str(c.tree_id), cfg)
            }
            assert walk == flat, (oid, walk, flat)


@SETTINGS
@given(ops=st.lists(op, max_size=12))
def test_valid_histories_verify(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        h = History(Path(tmp) / "r")
        commits, _files = build(h, ops)
        assert violations(h.path) == []
        assert violations(h.path, f"{commits[0]}..main") == []
        engines_agree(h, commits)


def _tamper(files: Files, how: str, pick: int, data: bytes) -> tuple[Files, str, set[str]]:
    """Files after one tampering, the path it hits, and the kinds that may report it."""
    paths = sorted(p for p in files if p.startswith("journal/"))
    path = paths[pick % len(paths)]
    mode, old = files[path]
    rest = {k: v for k, v in files.items() if k != path}
    if how == "flip":
        i = pick % len(old)
        changed = old[:i] + bytes([old[i] ^ (1 + pick % 255)]) + old[i + 1 :]
        return {**files, path: (mode, changed)}, path, {"rewritten"}
    if how == "truncate":
        return {**files, path: (mode, old[: pick % len(old)])}, path, {"truncated"}
    if how == "insert":
        i = pick % len(old)
        wedge = bytes([old[i] ^ 1]) + data  # differs from the byte it pushes along
        return {**files, path: (mode, old[:i] + wedge + old[i:])}, path, {"rewritten"}
    if how == "rename":
        return {**rest, path + ".moved": (mode, old)}, path, {"renamed"}
    if how == "delete":
        return rest, path, {"deleted"}
    if how == "chmod":
        return {**files, path: (EXEC, old)}, path, {"mode_changed"}
    if how == "symlink":
        return {**files, path: (LINK, b"seed.md")}, path, {"type_changed"}
    raise AssertionError(how)


@SETTINGS
@given(
    ops=st.lists(op, max_size=10),
    how=st.sampled_from(["flip", "truncate", "insert", "rename", "delete", "chmod", "symlink"]),
    pick=st.integers(0, 10_000),
    data=text,
    bury=st.booleans(),
)
def test_any_tampering_is_caught(
    ops: list[tuple[Any, ...]], how: str, pick: int, data: bytes, bury: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        h = History(Path(tmp) / "r")
        commits, files = build(h, ops)
        tampered, path, kinds = _tamper(files, how, pick, data)
        bad = h.commit(tampered, [commits[-1]])
        tip = bad
        if bury:  # valid work on top must not hide it
            tip = h.commit({**tampered, "journal/later.md": (FILE, b"later\n")}, [bad])
        h.set_ref("refs/heads/main", tip)
        for spec in (None, f"{commits[-1]}..main"):
            found = violations(h.path, spec)
            assert any(
                v["commit"] == str(bad) and v["path"] == path and v["kind"] in kinds for v in found
            ), (how, path, found)
        engines_agree(h, [bad])


@SETTINGS
@given(ops=st.lists(op, max_size=6), left=text, right=text, union=st.booleans())
def test_merges_must_extend_every_parent(
    ops: list[tuple[Any, ...]], left: bytes, right: bytes, union: bool
) -> None:
    """A union merge of two appends, or a merge that takes one side's tree, is caught."""
    with tempfile.TemporaryDirectory() as tmp:
        h = History(Path(tmp) / "r")
        commits, files = build(h, ops)
        seed = files["journal/seed.md"][1]
        left, right = b"L" + left, b"R" + right
        lf = {**files, "journal/seed.md": (FILE, seed + left)}
        rf = {**files, "journal/new-right.md": (FILE, right)}
        if union:
            rf = {**files, "journal/seed.md": (FILE, seed + right)}
        lc, rc = h.commit(lf, [commits[-1]]), h.commit(rf, [commits[-1]])
        merged = {**lf, "journal/seed.md": (FILE, seed + left + right)} if union else lf
        m = h.commit(merged, [lc, rc])
        h.set_ref("refs/heads/main", m)
        found = violations(h.path)
        assert found and all(v["commit"] == str(m) for v in found), found
        assert any(v["parent"] == str(rc) for v in found)
        engines_agree(h, [m])
