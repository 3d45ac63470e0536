"""Checkpoints: a verified journal state, recorded so that a later rewrite is caught even if it
never passed through CI.

A checkpoint is a commit on `journal.checkpointRef` (default refs/wt/journal-checkpoint). Its
tree holds one file, `manifest`: each journal file's size and sha256 at the verified commit.
Its message carries the verified commit and a chained digest,
sha256(previous digest + "\\n" + manifest), so a checkpoint cannot be edited without breaking
every later one. Its parents are the previous checkpoint and the verified commit (which keeps
the verified history reachable).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worktree_tools.core.errors import InvalidInput, RefMoved
from worktree_tools.journal.config import JournalConfig
from worktree_tools.journal.rules import MODE_FILE, Kind, Violation

MANIFEST = "manifest"
HEADER = "wt-journal-manifest 1\n"
NO_DIGEST = "0" * 64


@dataclass(frozen=True)
class Checkpoint:
    commit: str
    verified: str
    digest: str
    previous: str
    manifest: bytes
    parent: str | None  # the previous checkpoint commit

    @classmethod
    def load(cls, repo: Any, oid: Any) -> Checkpoint:
        import pygit2

        commit = repo[oid].peel(pygit2.Commit)
        trailers: dict[str, str] = {}
        for line in commit.message.splitlines():
            key, sep, value = line.partition(": ")
            if sep:
                trailers[key.strip()] = value.strip()
        try:
            manifest = repo[commit.tree[MANIFEST].id].data
        except KeyError:
            manifest = b""
        return cls(
            commit=str(commit.id),
            verified=trailers.get("Verified-Commit", ""),
            digest=trailers.get("Journal-Digest", ""),
            previous=trailers.get("Previous-Digest", NO_DIGEST),
            manifest=bytes(manifest),
            # parents: [previous checkpoint, verified commit], or [verified commit] for the first
            parent=str(commit.parent_ids[0]) if len(commit.parent_ids) == 2 else None,
        )

    def entries(self) -> list[tuple[str, int, str]]:
        out = []
        lines = self.manifest.decode("utf-8", "surrogateescape").splitlines()[1:]
        for number, line in enumerate(lines, 2):
            try:
                size, digest, quoted = line.split(" ", 2)
                path = json.loads(quoted)
                if not isinstance(path, str) or not size.isdigit():
                    raise ValueError('not `SIZE DIGEST "PATH"`')
            except ValueError as exc:
                from worktree_tools.core.errors import CorruptState

                raise CorruptState(
                    f"checkpoint {self.commit[:12]}:{MANIFEST}",
                    f"line {number}: {exc}",
                    fix=f"inspect it: git show {self.commit}:{MANIFEST}; then write a new "
                    "checkpoint from a verified commit: git wt journal checkpoint",
                ) from None
            out.append((path, int(size), digest))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "ref_commit": self.commit,
            "verified_commit": self.verified,
            "digest": self.digest,
            "files": self.manifest.count(b"\n") - 1,
        }


def chain_digest(previous: str, manifest: bytes) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + manifest).hexdigest()


def journal_files(repo: Any, cfg: JournalConfig, tree: Any) -> list[tuple[str, int, bytes]]:
    """(path, mode, data) of every journal file in `tree`, sorted by path."""
    out: list[tuple[str, int, bytes]] = []

    def walk(t: Any, prefix: str) -> None:
        for entry in t:
            path = f"{prefix}{entry.name}"
            if entry.type_str == "tree":
                if cfg.may_contain(path):
                    walk(repo[entry.id], path + "/")
            elif cfg.matches(path):
                data = repo[entry.id].data if entry.type_str == "blob" else b""
                out.append((path, entry.filemode, bytes(data)))

    walk(tree, "")
    return sorted(out)


def build_manifest(files: list[tuple[str, int, bytes]]) -> bytes:
    lines = [HEADER]
    for path, _mode, data in files:
        quoted = json.dumps(path, ensure_ascii=False)
        lines.append(f"{len(data)} {hashlib.sha256(data).hexdigest()} {quoted}\n")
    return "".join(lines).encode("utf-8", "surrogateescape")


def latest(repo: Any, cfg: JournalConfig) -> Checkpoint | None:
    ref = repo.references.get(cfg.checkpoint_ref)
    return Checkpoint.load(repo, ref.target) if ref is not None else None


def check_chain(repo: Any, cp: Checkpoint) -> list[Violation]:
    """Every checkpoint's digest follows from its manifest and the previous digest."""
    out: list[Violation] = []
    current: Checkpoint | None = cp
    while current is not None:
        prev = Checkpoint.load(repo, current.parent) if current.parent else None
        want_prev = prev.digest if prev else NO_DIGEST
        if current.previous != want_prev or current.digest != chain_digest(
            want_prev, current.manifest
        ):
            out.append(
                Violation(
                    "(checkpoint)",
                    Kind.CHECKPOINT,
                    f"checkpoint {current.commit[:12]} does not match its digest chain",
                    commit=current.commit,
                )
            )
        current = prev
    return out


def check_extends(
    repo: Any, cfg: JournalConfig, new: Any
) -> tuple[dict[str, Any] | None, list[Violation]]:
    """Whether the journal at commit `new` extends the latest checkpoint, byte for byte."""
    cp = latest(repo, cfg)
    if cp is None:
        return None, []
    out = check_chain(repo, cp)
    tree = repo[new].tree
    for path, size, digest in cp.entries():
        try:
            entry = tree[path]
        except KeyError:
            out.append(_cp_violation(new, path, "checkpointed entry is gone"))
            continue
        if entry.filemode != MODE_FILE or entry.type_str != "blob":
            out.append(
                _cp_violation(new, path, f"checkpointed entry is now mode {entry.filemode:06o}")
            )
            continue
        data = entry.data
        if len(data) < size or hashlib.sha256(data[:size]).hexdigest() != digest:
            out.append(
                _cp_violation(new, path, f"the first {size} bytes differ from the checkpoint")
            )
    return cp.to_json(), out


def _cp_violation(new: Any, path: str, detail: str) -> Violation:
    return Violation(path, Kind.CHECKPOINT, detail, commit=str(new))


def create(
    repo: Any, cfg: JournalConfig, verified: Any, agent: str
) -> tuple[Checkpoint, str | None]:
    """Write a checkpoint commit for the (already verified) commit `verified`; return it and
    the previous checkpoint commit, for the caller's compare-and-swap of the ref."""
    import pygit2

    prev = latest(repo, cfg)
    files = journal_files(repo, cfg, repo[verified].tree)
    manifest = build_manifest(files)
    previous = prev.digest if prev else NO_DIGEST
    digest = chain_digest(previous, manifest)
    builder = repo.TreeBuilder()
    builder.insert(MANIFEST, repo.create_blob(manifest), pygit2.enums.FileMode.BLOB)
    tree = builder.write()
    message = (
        f"wt journal checkpoint of {str(verified)[:12]}\n\n"
        f"{len(files)} journal file(s), recorded by {agent}.\n\n"
        f"Verified-Commit: {verified}\n"
        f"Journal-Digest: {digest}\n"
        f"Previous-Digest: {previous}\n"
    )
    sig = repo.default_signature
    parents = ([pygit2.Oid(hex=prev.commit)] if prev else []) + [verified]
    oid = repo.create_commit(None, sig, sig, message, tree, parents)
    return Checkpoint.load(repo, oid), prev.commit if prev else None


def record(cwd: Path, rev: str, agent: str | None) -> dict[str, Any]:
    """Verify up to `rev` (from the previous checkpoint when it is an ancestor), then record a
    checkpoint and move the ref by compare-and-swap."""
    from worktree_tools.core import agent as agent_mod
    from worktree_tools.core import events, refs
    from worktree_tools.core.errors import WtError
    from worktree_tools.core.repo import discover
    from worktree_tools.journal.config import load
    from worktree_tools.journal.verify import open_pygit2, resolve, verify

    wt = discover(cwd)
    name, _source = agent_mod.resolve(agent, wt.gitdir)
    repo = open_pygit2(cwd)
    target = resolve(repo, rev, "REV")
    if target is None:
        raise InvalidInput(f"{rev!r} is not a commit in this repository")
    cfg = load(wt.toplevel, str(target))
    prev = latest(repo, cfg)
    since = None
    if prev is not None and prev.verified:
        base = resolve(repo, prev.verified, "checkpoint")
        if base is not None and (base == target or repo.descendant_of(target, base)):
            since = base
    verified = verify(cwd, f"{since}..{target}" if since else str(target), config=cfg)
    cp, prev_commit = create(repo, cfg, target, name)
    try:
        refs.move(
            wt,
            cfg.checkpoint_ref,
            str(cp.commit),
            prev_commit,
            refs.reflog("git wt journal checkpoint", name),
        )
    except WtError as refused:
        raise RefMoved(
            f"{cfg.checkpoint_ref} moved while checkpointing: {refused.message}",
            fix="run git wt journal checkpoint again",
        ) from None
    events.append(
        wt.state_dir,
        "journal_checkpoint",
        name,
        outcome="ok",
        ref=cfg.checkpoint_ref,
        commit=cp.commit,
        verified=str(target),
        digest=cp.digest,
        previous=prev_commit,
    )
    return {
        "outcome": "ok",
        "ref": cfg.checkpoint_ref,
        "ref_commit": cp.commit,
        "previous": prev_commit,
        "verified_commit": str(target),
        "digest": cp.digest,
        "files": len(cp.entries()),
        "commits_verified": verified.commits,
        "agent": name,
    }
