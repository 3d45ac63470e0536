"""Stage the named paths in the private index from the bytes we read, as `git add -A` would.

The private index starts as HEAD's tree. Each named path (a directory names what git would add
under it: its tracked files and its untracked files that are not ignored) is read through a
path that cannot follow a link (see read); the bytes read become blobs in one `git fast-import`
and the entries are set by one `git update-index --index-info`. Paths that git would convert on
the way in (a clean filter, `text`/`eol`/`ident`/`working-tree-encoding` attributes,
`core.autocrlf`) are staged by git's own `git add`, over a private copy of the bytes we read, so
that they get exactly git's conversion and still never a byte from outside the worktree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from worktree_tools.commit import blobs
from worktree_tools.commit.read import MISSING, Found, Kind, SafeTree
from worktree_tools.core.entries import (
    GITLINK,
    PATHSPEC_LIMIT,
    Entry,
    apply,
    covered,
    index_entries,
    tree_entries,
)
from worktree_tools.core.errors import InvalidInput, PathRefused
from worktree_tools.core.gitcmd import nul_join
from worktree_tools.core.repo import Worktree
from worktree_tools.core.scratch import remove_tree

ATTRS = ("filter", "text", "eol", "crlf", "ident", "working-tree-encoding")
ATTRIBUTES_FILE = ".gitattributes"


@dataclass(frozen=True)
class Settings:
    """The configuration that decides how a file becomes an index entry."""

    filemode: bool = True
    autocrlf: str = "false"
    attributes_file: str | None = None

    @classmethod
    def parse(cls, config: dict[str, str]) -> Settings:
        def flag(key: str, default: bool) -> bool:
            value = config.get(key)
            if value is None:
                return default
            return value.strip().lower() in ("true", "yes", "on", "1", "")

        return cls(
            filemode=flag("core.filemode", True),
            autocrlf=config.get("core.autocrlf", "false").strip().lower(),
            attributes_file=config.get("core.attributesfile"),
        )


def stage_paths(
    wt: Worktree, priv: Path, tip: str | None, rels: list[str], settings: Settings, tmp: Path
) -> None:
    """Private index = HEAD's tree + the named paths as they are on disk."""
    wt.git(["read-tree", tip] if tip else ["read-tree", "--empty"], index=priv)
    head, others = _listing(wt, priv, tip, rels)
    with SafeTree(wt.toplevel) as tree:
        found = _collect(wt, priv, tree, head, others, rels)
        convert = _converted(wt, tree, head, found, settings)
        plain = [
            (p, f) for p, f in found.items() if f.kind is not Kind.MISSING and p not in convert
        ]
        oids = blobs.write_blobs(wt, [f.data for _, f in plain], tmp)
        oid_len = len(oids[0]) if oids else len(tip or "") or 40
        changes: list[tuple[str, Entry | None]] = []
        for (path, f), oid in zip(plain, oids, strict=True):
            changes.append((path, Entry(_mode(f, head.get(path), settings), oid)))
        changes += [(p, None) for p, f in found.items() if f.kind is Kind.MISSING]
        apply(wt, priv, changes, oid_len)
        if convert:
            _stage_through_git(wt, priv, tree, {p: found[p] for p in convert}, tmp)


_CACHED = re.compile(rb"^([0-7]{6}) ([0-9a-f]{40,64}) ([0-3])\t(.*)$", re.DOTALL)


def _listing(
    wt: Worktree, priv: Path, tip: str | None, rels: list[str]
) -> tuple[dict[str, Entry], list[str] | None]:
    """HEAD's entries covering `rels`; with few paths also what `git add` would find untracked
    at or under them (one `ls-files`, where else three processes run: a listing of HEAD, of the
    named directories' untracked files, and check-ignore)."""
    if "." in rels or len(rels) > PATHSPEC_LIMIT:
        return tree_entries(wt, tip), None
    res = wt.git(
        ["ls-files", "-s", "-z", "--cached", "--others", "--exclude-standard", "--", *rels],
        index=priv,
        literal=True,
    )
    head: dict[str, Entry] = {}
    others: list[str] = []
    for item in res.stdout.split(b"\0"):
        if not item:
            continue
        cached = _CACHED.match(item)
        if cached:
            mode, oid, _stage, path = cached.groups()
            head[os.fsdecode(path)] = Entry(mode.decode(), oid.decode())
        else:
            others.append(os.fsdecode(item))
    return head, others


def _collect(
    wt: Worktree,
    priv: Path,
    tree: SafeTree,
    head: dict[str, Entry],
    others: list[str] | None,
    rels: list[str],
) -> dict[str, Found]:
    """What each path git would stage is now: its bytes, or MISSING (to be removed)."""
    found: dict[str, Found] = {}
    dirs: list[str] = []
    missing: list[str] = []
    for rel in rels:
        what = Found(Kind.DIR) if rel == "." else tree.read(rel)
        if what.kind is Kind.DIR:
            dirs.append(rel)
        elif what.kind is Kind.MISSING and rel not in head:
            missing.append(rel)
        else:
            found[rel] = what
    if missing:
        _deleted_or_unknown(wt, head, missing, dirs)
    if dirs:
        named = frozenset(dirs)
        for path, entry in head.items():
            if entry.mode != GITLINK and path not in found and covered(path, named):
                found[path] = _as_entry(tree.read(path))
        under = [p for p in others if covered(p.rstrip("/"), named)] if others is not None else None
        for path in under if under is not None else _untracked(wt, priv, dirs):
            if path.endswith("/"):
                raise PathRefused(
                    f"{path.rstrip('/')} is a git repository nested in this worktree; "
                    "wt-commit does not commit it as an embedded repository",
                    fix=f"name the paths outside it, or add it as a submodule: "
                    f"git submodule add ./{path.rstrip('/')}",
                    nested_repository=path.rstrip("/"),
                )
            found.setdefault(path, tree.read(path))
    given = set(rels)
    new = [
        p for p, f in found.items() if p in given and p not in head and f.kind is not Kind.MISSING
    ]
    if others is None:
        _refuse_ignored(wt, priv, new)
    else:
        listed = set(others)
        _refuse_listed_ignored([p for p in new if p not in listed])
    return found


def _as_entry(found: Found) -> Found:
    # A tracked file that became a directory is removed (its files are untracked, listed apart).
    return MISSING if found.kind is Kind.DIR else found


def _deleted_or_unknown(
    wt: Worktree, head: dict[str, Entry], missing: list[str], dirs: list[str]
) -> None:
    """A missing path is fine when it is a deleted directory of HEAD (its files are removed)
    or a path staged in the worktree's index (landing unstages it); else it is a typo."""
    unknown = []
    head_dirs = _ancestors(head)
    dirs.extend(m for m in missing if m in head_dirs)
    rest = [m for m in missing if m not in head_dirs]
    if rest:
        staged = index_entries(wt, wt.index_path, rest)
        staged_paths = set(staged) | _ancestors(staged)
        unknown = [m for m in rest if m not in staged_paths]
    if unknown:
        raise InvalidInput(
            "path neither exists nor is tracked: " + ", ".join(repr(u) for u in unknown)
        )


def _ancestors(paths: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for path in paths:
        while "/" in path:
            path = path.rpartition("/")[0]
            if path in out:
                break
            out.add(path)
    return out


def _untracked(wt: Worktree, priv: Path, dirs: list[str]) -> list[str]:
    """Files under `dirs` that HEAD does not track and no ignore rule hides (git add's view);
    a nested repository is listed as `dir/`."""
    res = wt.git(
        ["ls-files", "-z", "--others", "--exclude-standard", "--", *dirs], index=priv, literal=True
    )
    return [os.fsdecode(p) for p in res.stdout.split(b"\0") if p]


def _refuse_ignored(wt: Worktree, priv: Path, named: list[str]) -> None:
    if not named:
        return
    res = wt.git(["check-ignore", "-z", "--stdin"], index=priv, input=nul_join(named), check=False)
    _refuse_listed_ignored([os.fsdecode(p) for p in res.stdout.split(b"\0") if p])


def _refuse_listed_ignored(ignored: list[str]) -> None:
    if ignored:
        raise PathRefused(
            "ignored by a .gitignore rule (git add refuses them too): "
            + ", ".join(repr(p) for p in ignored[:10]),
            fix="remove the rule (or add a negation `!PATH` to .gitignore), then run the same "
            "wt-commit again",
        )


def _mode(found: Found, head: Entry | None, settings: Settings) -> str:
    if found.kind is Kind.LINK:
        return "120000"
    if not settings.filemode:  # core.fileMode false: the exec bit on disk means nothing
        return head.mode if head is not None and head.mode in ("100644", "100755") else "100644"
    return "100755" if found.executable else "100644"


# --- paths git would convert ----------------------------------------------------------------


def _converted(
    wt: Worktree,
    tree: SafeTree,
    head: dict[str, Entry],
    found: dict[str, Found],
    settings: Settings,
) -> set[str]:
    files = [p for p, f in found.items() if f.kind is Kind.FILE]
    if not files or not _may_convert(wt, tree, head, found, settings):
        return set()
    res = wt.git(["check-attr", "-z", "--stdin", *ATTRS], input=nul_join(files))
    fields = [os.fsdecode(f) for f in res.stdout.split(b"\0")]
    attrs: dict[str, dict[str, str]] = {}
    for i in range(0, len(fields) - 2, 3):
        attrs.setdefault(fields[i], {})[fields[i + 1]] = fields[i + 2]
    auto = settings.autocrlf in ("true", "input")
    out = set()
    for path in files:
        a = attrs.get(path, {})
        binary = a.get("text") == "unset" or a.get("crlf") == "unset"
        if (
            a.get("filter", "unspecified") not in ("unspecified", "unset")
            or a.get("ident") == "set"
            or a.get("working-tree-encoding", "unspecified") != "unspecified"
            or (not binary and a.get("text", "unspecified") != "unspecified")
            or (not binary and a.get("eol", "unspecified") != "unspecified")
            or (not binary and a.get("crlf", "unspecified") not in ("unspecified", "unset"))
            or (auto and not binary)
        ):
            out.add(path)
    return out


def _may_convert(
    wt: Worktree,
    tree: SafeTree,
    head: dict[str, Entry],
    found: dict[str, Found],
    settings: Settings,
) -> bool:
    """Cheap test: is there any attribute source or autocrlf at all? (Most repositories have
    none; then check-attr is not run.)"""
    if settings.autocrlf in ("true", "input"):
        return True
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.environ.get("HOME", "/"), ".config")
    sources = [wt.commondir / "info" / "attributes", Path(home) / "git" / "attributes"]
    if settings.attributes_file:
        sources.append(Path(os.path.expanduser(settings.attributes_file)))
    if not os.environ.get("GIT_ATTR_NOSYSTEM"):
        sources += [Path("/etc/gitattributes"), Path("/usr/etc/gitattributes")]
    if any(s.exists() for s in sources):
        return True
    if any(p.rpartition("/")[2] == ATTRIBUTES_FILE for p in (*head, *found)):
        return True
    dirs = {p.rpartition("/")[0] for p in found}
    return any(tree.read(_join(d, ATTRIBUTES_FILE)).kind is Kind.FILE for d in _with_parents(dirs))


def _stage_through_git(
    wt: Worktree, priv: Path, tree: SafeTree, files: dict[str, Found], tmp: Path
) -> None:
    """`git add` over a private copy (the bytes we read, plus the .gitattributes files that
    apply), so git's own conversion runs and nothing outside the worktree can be reached."""
    snap = tmp / "snapshot"
    try:
        for d in _with_parents({p.rpartition("/")[0] for p in files}):
            attrs = tree.read(_join(d, ATTRIBUTES_FILE))
            if attrs.kind is Kind.FILE:
                _write(snap, _join(d, ATTRIBUTES_FILE), attrs)
        for path, f in files.items():
            _write(snap, path, f)
        res = wt.git(
            ["--work-tree", os.fspath(snap), "add", "--pathspec-from-file=-",
             "--pathspec-file-nul"],
            index=priv,
            input=nul_join(list(files)),
            literal=True,
            check=False,
        )  # fmt: skip
        if res.returncode != 0:
            from worktree_tools.guard.suggest import without_hints

            raise InvalidInput(f"git refused the paths: {without_hints(res.err)}")
    finally:
        remove_tree(snap)


def _write(root: Path, rel: str, found: Found) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(found.data)
    path.chmod(0o755 if found.executable else 0o644)


def _join(d: str, name: str) -> str:
    return f"{d}/{name}" if d else name


def _with_parents(dirs: set[str]) -> Iterator[str]:
    seen: set[str] = set()
    for d in dirs:
        while d not in seen:
            seen.add(d)
            yield d
            if not d:
                break
            d = d.rpartition("/")[0]
