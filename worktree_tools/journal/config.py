"""The journal configuration: one committed file in git-config syntax, read by hooks and CI.

    # .wtjournal
    [journal]
        path = journal/**              ; repeatable; default journal/**
        namePattern = ^journal/[0-9]{4}-[0-9]{2}-[0-9]{2}/[^/]+[.]md$   ; off by default
        protect = main                 ; repeatable; default main and master
        checkpointRef = refs/wt/journal-checkpoint

It is read with `git config --blob REV:.wtjournal` (a committed version, never the working
tree) so every checker reads the same bytes. A missing file means the defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from worktree_tools.core.errors import CorruptState, InvalidInput
from worktree_tools.core.gitcmd import GitResult, clean_env, git
from worktree_tools.core.statefiles import JOURNAL_CONFIG as CONFIG_FILE

DEFAULT_PATHS = ("journal/**",)
DEFAULT_PROTECT = ("main", "master")
DEFAULT_CHECKPOINT_REF = "refs/wt/journal-checkpoint"
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Pattern:
    """One journal path pattern: `*`, `?`, `[...]` within a segment, `**` for any depth.
    A pattern without wildcards names a file or a directory and everything below it."""

    text: str
    segments: tuple[str, ...]
    deep: str | None = None  # "journal" for journal/**: everything below it matches

    @classmethod
    def parse(cls, text: str) -> Pattern:
        cleaned = text.strip().strip("/")
        segs = tuple(s for s in cleaned.split("/") if s not in ("", "."))
        if not segs or any(s == ".." for s in segs):
            raise InvalidInput(f"invalid journal path pattern {text!r}")
        if not any(_GLOB.search(s) for s in segs):
            segs = (*segs, "**")
        deep = None
        if segs[-1] == "**" and not any(_GLOB.search(s) for s in segs[:-1]):
            deep = "/".join(segs[:-1])
        return cls(text=text, segments=segs, deep=deep)

    @property
    def prefix(self) -> str:
        """The literal directory (or file) where every match lives: where a walk starts."""
        lit: list[str] = []
        for seg in self.segments:
            if _GLOB.search(seg):
                break
            lit.append(seg)
        return "/".join(lit)

    def matches(self, path: str) -> bool:
        if self.deep is not None:  # the common case, without fnmatch
            return path.startswith(self.deep + "/") if self.deep else bool(path)
        return _match(self.segments, tuple(path.split("/")))

    def covers(self, directory: str) -> bool:
        """Whether every path below `directory` matches."""
        if self.deep is None:
            return False
        return not self.deep or directory == self.deep or directory.startswith(self.deep + "/")

    def may_contain(self, directory: str) -> bool:
        """Whether some path below `directory` could match."""
        return _prefix(self.segments, tuple(directory.split("/")) if directory else ())

    def within(self, other: Pattern) -> bool:
        """Whether `other` matches every path this pattern matches (decided conservatively:
        the same pattern, or `other` is a whole directory holding all of this one's)."""
        if self.segments == other.segments:
            return True
        if other.deep is None:
            return False
        return other.covers(self.prefix) if self.prefix else other.deep == ""


def _match(pat: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not pat:
        return not parts
    if pat[0] == "**":
        rest = pat[1:]
        if not rest:
            return bool(parts)
        return any(_match(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], pat[0]) and _match(pat[1:], parts[1:])


def _prefix(pat: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not parts:
        return bool(pat)
    if not pat:
        return False
    if pat[0] == "**":
        return True
    return fnmatchcase(parts[0], pat[0]) and _prefix(pat[1:], parts[1:])


@dataclass(frozen=True)
class JournalConfig:
    patterns: tuple[Pattern, ...] = tuple(Pattern.parse(p) for p in DEFAULT_PATHS)
    name_pattern: re.Pattern[str] | None = None
    protect: tuple[str, ...] = DEFAULT_PROTECT
    checkpoint_ref: str = DEFAULT_CHECKPOINT_REF
    source: str = "defaults"

    @classmethod
    def parse(cls, listing: bytes, source: str) -> JournalConfig:
        """From `git config -z --list` output."""
        paths: list[str] = []
        protect: list[str] = []
        name_pattern: re.Pattern[str] | None = None
        ref = DEFAULT_CHECKPOINT_REF
        for item in listing.decode("utf-8", "surrogateescape").split("\0"):
            if not item:
                continue
            key, _, value = item.partition("\n")
            key = key.lower()
            if key == "journal.path":
                paths.append(value)
            elif key == "journal.protect":
                protect.append(value)
            elif key == "journal.namepattern":
                try:
                    name_pattern = re.compile(value) if value else None
                except re.error as exc:
                    raise InvalidInput(f"{source}: journal.namePattern: {exc}") from None
            elif key == "journal.checkpointref":
                if not value.startswith("refs/"):
                    raise InvalidInput(f"{source}: journal.checkpointRef must start with refs/")
                ref = value
        patterns = tuple(Pattern.parse(p) for p in (paths or DEFAULT_PATHS))
        return cls(
            patterns=patterns,
            name_pattern=name_pattern,
            protect=tuple(protect) if protect else DEFAULT_PROTECT,
            checkpoint_ref=ref,
            source=source,
        )

    def matches(self, path: str) -> bool:
        return any(p.matches(path) for p in self.patterns)

    def may_contain(self, directory: str) -> bool:
        return any(p.may_contain(directory) for p in self.patterns)

    def covers(self, directory: str) -> bool:
        return any(p.covers(directory) for p in self.patterns)

    def starts(self) -> list[str]:
        """Where walks start: each pattern's literal prefix, nested ones dropped."""
        out: list[str] = []
        for prefix in sorted({p.prefix for p in self.patterns}, key=len):
            if not any(prefix == o or prefix.startswith(o + "/") or o == "" for o in out):
                out.append(prefix)
        return out

    def touches(self, rel: str) -> bool:
        """Whether a committed path `rel` (a directory stands for all below it) can touch
        a journal path or this configuration."""
        if rel in (".", ""):
            return True
        return rel == CONFIG_FILE or self.matches(rel) or self.may_contain(rel)

    def is_protected(self, ref: str) -> bool:
        short = ref.removeprefix("refs/heads/")
        return any(fnmatchcase(short, p.removeprefix("refs/heads/")) for p in self.protect)

    def loosened_from(self, old: JournalConfig) -> list[str]:
        """How this configuration protects less than `old` (empty: the same or wider). A
        policy may only grow from below: narrowing it is the job of a person who says so."""
        out: list[str] = []
        for pat in old.patterns:
            if not any(pat.within(p) for p in self.patterns):
                out.append(f"journal.path {pat.text!r} is no longer protected")
        for branch in old.protect:
            short = branch.removeprefix("refs/heads/")
            if not any(fnmatchcase(short, p.removeprefix("refs/heads/")) for p in self.protect):
                out.append(f"branch {branch!r} is no longer protected")
        if old.name_pattern is not None and (
            self.name_pattern is None or self.name_pattern.pattern != old.name_pattern.pattern
        ):
            out.append(f"journal.namePattern {old.name_pattern.pattern!r} was dropped or changed")
        if self.checkpoint_ref != old.checkpoint_ref:
            out.append(
                f"journal.checkpointRef moved from {old.checkpoint_ref} to {self.checkpoint_ref}"
            )
        return out


def load(repo_dir: Path, rev: str | None) -> JournalConfig:
    """The configuration committed at `rev` (a commit or tree), or the defaults when `rev` has
    no .wtjournal. One that does not parse, or that is not a file (a directory, a submodule),
    is refused (CorruptState): never the defaults, which could be looser."""
    if rev is None:
        return JournalConfig()
    where = f"{rev[:12]}:{CONFIG_FILE}"
    res = _config(repo_dir, ["--blob", f"{rev}:{CONFIG_FILE}"])
    if res.returncode != 0:
        if "unable to resolve config blob" in res.err:
            return JournalConfig()  # no such file at `rev`
        raise _corrupt(where, rev, res.err)
    return JournalConfig.parse(res.stdout, where)


def _corrupt(where: str, rev: str, err: str) -> CorruptState:
    detail = "does not parse: " + " ".join(line.strip() for line in err.strip().splitlines())
    if "does not point to a blob" in err:
        detail = "is not a file (a directory or a submodule)"
    return CorruptState(
        where,
        f"the journal configuration {detail}",
        fix=f"look at it (git show {rev}:{CONFIG_FILE}), then commit a {CONFIG_FILE} that "
        f"parses (git config --file {CONFIG_FILE} --list shows what git reads)",
    )


def load_file(repo_dir: Path, path: Path) -> JournalConfig:
    res = _config(repo_dir, ["--file", str(path)])
    if res.returncode != 0 and (path.exists() or path.is_symlink()):
        raise CorruptState(str(path), f"cannot be read as git config: {res.err.strip()}")
    return JournalConfig.parse(res.stdout, str(path)) if res.returncode == 0 else JournalConfig()


def _config(repo_dir: Path, where: list[str]) -> GitResult:
    # A blob or file that does not parse is a real error; a missing one means the defaults.
    return git(["config", *where, "-z", "--list"], cwd=repo_dir, env=clean_env(), check=False)
