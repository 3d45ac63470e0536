"""`git wt journal append`: the safe way for an agent to write to the journal.

Each agent writes only its own files, `journal/YYYY-MM-DD/HHMMSS-AGENT-TOPIC.md`, so concurrent
agents never touch the same path; the file is committed at once through wt-commit.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from worktree_tools.core import agent as agent_mod
from worktree_tools.core.errors import InvalidInput
from worktree_tools.core.repo import Worktree, discover
from worktree_tools.journal.config import JournalConfig, load
from worktree_tools.journal.rules import content_problems

_TOPIC = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class AppendResult:
    path: str
    created: bool
    agent: str
    commit: str | None
    outcome: str
    appended_bytes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "path": self.path,
            "created": self.created,
            "agent": self.agent,
            "commit": self.commit,
            "appended_bytes": self.appended_bytes,
        }


def topic_slug(topic: str | None) -> str:
    slug = _TOPIC.sub("-", (topic or "note").lower()).strip("-")[:40].strip("-")
    return slug or "note"


def prepare_text(text: str) -> bytes:
    """The bytes to write: LF line endings, a final newline, nothing the rules refuse."""
    body = text.replace("\r\n", "\n")
    if not body.strip():
        raise InvalidInput("nothing to append: the text is empty")
    if not body.endswith("\n"):
        body += "\n"
    data = body.encode("utf-8", "surrogateescape")
    problems = content_problems(data)
    if problems:
        raise InvalidInput(
            "the text cannot go into the journal: " + "; ".join(d for _k, d in problems),
            fix="write UTF-8 text without CR, NUL or a byte order mark",
        )
    return data


def journal_dir(cfg: JournalConfig) -> str:
    for pattern in cfg.patterns:
        if pattern.prefix and pattern.matches(pattern.prefix + "/x.md"):
            return pattern.prefix
    raise InvalidInput(
        "cannot tell where new journal entries go from journal.path",
        fix="add a pattern like 'journal/**' to .wtjournal",
    )


def choose_path(
    wt: Worktree, cfg: JournalConfig, name: str, topic: str, now: datetime
) -> tuple[str, bool]:
    """(path, exists): today's entry of this agent and topic, else a new unique name."""
    day = f"{journal_dir(cfg)}/{now:%Y-%m-%d}"
    suffix = f"-{name}-{topic}.md"
    listing = wt.git(["ls-tree", "-z", "--name-only", "HEAD", "--", day + "/"], check=False)
    if listing.returncode == 0:
        for item in sorted(listing.out.split("\0"), reverse=True):
            base = item.rsplit("/", 1)[-1]
            if re.fullmatch(r"\d{6}" + re.escape(suffix), base):
                return item, True
    stem = f"{day}/{now:%H%M%S}-{name}-{topic}"
    path, n = f"{stem}.md", 1
    while (wt.toplevel / path).exists():
        n += 1
        path = f"{stem}-{n}.md"
    return path, False


def append(
    cwd: Path, text: str, agent: str | None, topic: str | None, lock_timeout: float = 30.0
) -> AppendResult:
    """Write `text` to the agent's entry (a new file, or today's for the same topic) and commit
    exactly that file through wt-commit. On failure the file is put back as it was."""
    from worktree_tools.commit.request import CommitRequest
    from worktree_tools.commit.run import run

    data = prepare_text(text)
    wt = discover(cwd)
    name, _source = agent_mod.resolve(agent, wt.gitdir)
    slug = topic_slug(topic)
    cfg = load(wt.toplevel, "HEAD")
    rel, exists = choose_path(wt, cfg, name, slug, datetime.now(timezone.utc))
    target = wt.toplevel / rel
    before: bytes | None = None
    if exists:
        before = wt.git(["cat-file", "blob", f"HEAD:{rel}"]).stdout
        on_disk = target.read_bytes() if target.exists() else None
        if on_disk != before:
            raise InvalidInput(
                f"{rel} has uncommitted changes; the journal appends to what is committed",
                fix=f"commit or restore {rel} first (git restore {rel})",
            )
        sep = b"\n" if before and not before.endswith(b"\n") else b""
        payload = sep + (b"\n" if before else b"") + data
        with open(target, "ab") as fh:
            fh.write(payload)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = data
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
    try:
        result = run(
            CommitRequest(
                paths=(rel,),
                cwd=wt.toplevel,
                messages=(f"journal: {name}: {slug}",),
                agent=name,
                lock_timeout=lock_timeout,
            )
        )
    except BaseException:
        if before is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(before)
        raise
    return AppendResult(
        path=rel,
        created=not exists,
        agent=name,
        commit=result.commit,
        outcome=result.outcome.value,
        appended_bytes=len(payload),
    )
