"""Which shell commands an agent should not run where other agents share the worktree, and the
wt-commit call to run instead. Used by every harness's pre-tool hook.

Ordinary commands (`git status`, `git diff`, `ls`) pass untouched: the installed hook command
does not even start Python unless the payload mentions git and one of the guarded subcommands.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

GUARDED = ("commit", "add", "stash", "reset", "checkout", "restore", "clean")
_OPERATORS = {";", "&&", "||", "|", "&", "\n", ";;", "|&"}
_UNSAFE_TO_REJOIN = set("$`*?[]{}~<>()!#\\")
# git's global options that take a separate value
_GLOBAL_WITH_VALUE = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path"}


class Verdict(str, Enum):
    ALLOW = "allow"
    DENY = "deny"
    REWRITE = "rewrite"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str | None = None
    command: str | None = None  # the rewritten command (REWRITE)

    @classmethod
    def allow(cls) -> Decision:
        return cls(Verdict.ALLOW)


@dataclass(frozen=True)
class GitCall:
    cwd: Path
    sub: str
    args: list[str]
    moved: bool = False  # `git -C DIR`: the paths are relative to DIR, not the shell's cwd


@dataclass(frozen=True)
class Context:
    """What the classifier needs to know about a directory (injected, so it is testable)."""

    shared: Callable[[Path], bool]  # does another agent or a person share this worktree?
    changed: Callable[[Path], list[str]]  # staged+modified paths, relative to the worktree
    top: Callable[[Path], Path | None]


def split(command: str) -> list[list[str]] | None:
    """Shell words per simple command, or None when the text does not tokenize."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        return None
    out: list[list[str]] = [[]]
    for tok in tokens:
        if tok in _OPERATORS:
            out.append([])
        else:
            out[-1].append(tok)
    return [seg for seg in out if seg]


def git_call(words: list[str], cwd: Path) -> GitCall | None:
    i = 0
    while i < len(words) and "=" in words[i] and not words[i].startswith("-"):
        i += 1  # VAR=value prefixes
    if i >= len(words) or os.path.basename(words[i]) != "git":
        return None
    i += 1
    here = cwd
    while i < len(words) and words[i].startswith("-"):
        opt = words[i]
        if opt in _GLOBAL_WITH_VALUE and i + 1 < len(words):
            if opt == "-C":
                here = here / words[i + 1]
            i += 2
            continue
        i += 1
    if i >= len(words):
        return None
    return GitCall(here, words[i], words[i + 1 :], here != cwd)


def decide(command: str, cwd: Path, ctx: Context) -> Decision:
    segments = split(command)
    if segments is None:
        return Decision.allow()  # cannot parse: the git backstop still stands behind this
    here = cwd
    replaced: list[list[str]] = []
    rewrote = False
    for words in segments:
        if words[0] == "cd" and len(words) == 2:
            here = here / os.path.expanduser(words[1])
        call = git_call(words, here)
        if call is None or call.sub not in GUARDED:
            replaced.append(words)
            continue
        one = _decide_git(call, ctx)
        if one.verdict is Verdict.DENY:
            return one
        if one.verdict is Verdict.REWRITE and one.command is not None:
            rewrote = True
            replaced.append(shlex.split(one.command))
        else:
            replaced.append(words)
    if not rewrote:
        return Decision.allow()
    if len(segments) == 1 or _rejoinable(command, segments):
        joined = _rejoin(command, replaced)
        if joined is not None:
            return Decision(
                Verdict.REWRITE, "rewritten to wt-commit (commits exactly the paths)", joined
            )
    suggestion = next(shlex.join(w) for w, s in zip(replaced, segments, strict=True) if w != s)
    return Decision(
        Verdict.DENY,
        f"use wt-commit for explicit-path commits (it never commits other agents' staged "
        f"files): {suggestion}",
    )


def _rejoinable(command: str, segments: list[list[str]]) -> bool:
    return not any(ch in _UNSAFE_TO_REJOIN for words in segments for w in words for ch in w)


def _rejoin(command: str, replaced: list[list[str]]) -> str | None:
    """The command with each simple command replaced, keeping the original operators."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = ""
    ops = [tok for tok in lexer if tok in _OPERATORS]
    if len(ops) != len(replaced) - 1:
        return None
    parts = [shlex.join(replaced[0])]
    for op, words in zip(ops, replaced[1:], strict=True):
        parts += [op, shlex.join(words)]
    return " ".join(parts)


def _wt_commit(ctx: Context, cwd: Path, messages: list[str], extra: list[str]) -> str:
    from worktree_tools.guard.suggest import command_for

    top = ctx.top(cwd)
    paths = ctx.changed(cwd) if top is not None else []
    return command_for(top, cwd, paths, messages or ["MESSAGE"], extra)


def _decide_git(call: GitCall, ctx: Context) -> Decision:
    sub, args, cwd = call.sub, call.args, call.cwd
    if sub == "stash":
        return Decision(
            Verdict.DENY,
            "git stash is one stack shared by every worktree and every agent; to set work "
            f"aside, commit it: {_wt_commit(ctx, cwd, ['wip'], [])} (or get a worktree of your "
            "own: git wt alloc NAME)",
        )
    if sub == "commit":
        return _decide_commit(call, ctx)
    if not ctx.shared(cwd):
        return Decision.allow()
    plain = [a for a in args if not a.startswith("-")]
    flags = [a for a in args if a.startswith("-") and a != "--"]
    whole = {".", ":/", ":(top)", "*", "./"}
    if sub == "add" and (
        any(f in ("-A", "--all", "-u", "--update") for f in flags) or any(p in whole for p in plain)
    ):
        what = "git add of the whole tree stages other agents' files in the shared index"
    elif sub == "reset" and "--hard" in flags:
        what = "git reset --hard throws away every uncommitted change in a shared worktree"
    elif sub in ("checkout", "restore") and any(p in whole for p in plain):
        what = f"git {sub} of the whole tree throws away other agents' uncommitted changes"
    elif sub == "clean" and any(
        f == "--force" or (not f.startswith("--") and "f" in f) for f in flags
    ):
        what = "git clean -f deletes other agents' untracked files"
    else:
        return Decision.allow()
    return Decision(
        Verdict.DENY,
        f"{what}; commit your own paths instead: {_wt_commit(ctx, cwd, [], [])}",
    )


def _decide_commit(call: GitCall, ctx: Context) -> Decision:
    args = call.args
    messages: list[str] = []
    paths: list[str] = []
    extra: list[str] = []
    all_flag = False
    unmappable: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            paths += args[i + 1 :]
            break
        if a in ("-m", "--message") and i + 1 < len(args):
            messages.append(args[i + 1])
            i += 2
            continue
        if a.startswith("--message="):
            messages.append(a.split("=", 1)[1])
        elif a in ("-a", "--all"):
            all_flag = True
        elif a in ("-n", "--no-verify"):
            extra.append("-n")
        elif a in ("-q", "--quiet", "-v", "--verbose"):
            pass
        elif a.startswith("-") and not a.startswith("--") and len(a) > 1:
            # combined short flags: -am MSG, -qm MSG, -mMSG
            letters = a[1:]
            j = 0
            while j < len(letters):
                ch = letters[j]
                if ch == "m":
                    rest = letters[j + 1 :]
                    if rest:
                        messages.append(rest)
                    elif i + 1 < len(args):
                        messages.append(args[i + 1])
                        i += 1
                    break
                if ch == "a":
                    all_flag = True
                elif ch == "n":
                    extra.append("-n")
                elif ch not in "qv":
                    unmappable.append(f"-{ch}")
                j += 1
        elif a.startswith("-"):
            unmappable.append(a)
        else:
            paths.append(a)
        i += 1
    if paths and not all_flag and messages and not unmappable and not call.moved:
        top = ctx.top(call.cwd)
        from worktree_tools.guard.suggest import command_for

        return Decision(
            Verdict.REWRITE, None, command_for(top, call.cwd, paths, messages, extra, keep=True)
        )
    if not ctx.shared(call.cwd) and not paths:
        return Decision.allow()  # the agent's own worktree: its index holds only its work
    fix = _wt_commit(ctx, call.cwd, messages, extra)
    if all_flag:
        why = "git commit -a commits every modified file, other agents' too"
    elif not paths:
        why = "git commit without paths commits the whole shared index, others' staged files too"
    else:
        why = f"wt-commit cannot express {', '.join(unmappable) or 'this commit'}"
    return Decision(Verdict.DENY, f"{why}; run instead: {fix}")
