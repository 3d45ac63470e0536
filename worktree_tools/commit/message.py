"""The commit message: from -m (paragraphs) or -F, cleaned up as `git commit` cleans it."""

from __future__ import annotations

import os
import sys

from worktree_tools.core.errors import InvalidInput

CLEANUP_MODES = ("default", "whitespace", "strip", "verbatim", "scissors")


def compose(
    messages: tuple[str, ...], message_file: str | None, cwd: str | os.PathLike[str]
) -> bytes:
    if messages and message_file is not None:
        raise InvalidInput("give either -m or -F, not both")
    if message_file is not None:
        if message_file == "-":
            return sys.stdin.buffer.read()
        try:
            with open(os.path.join(cwd, message_file), "rb") as f:
                return f.read()
        except OSError as exc:
            raise InvalidInput(f"cannot read message file {message_file!r}: {exc}") from None
    if not messages:
        raise InvalidInput(
            "a commit message is required (wt-commit never opens an editor)",
            fix="wt-commit -m MESSAGE -- PATH...",
        )
    # git joins several -m values as separate paragraphs.
    return "\n\n".join(messages).encode("utf-8", "surrogateescape") + b"\n"


def cleanup(raw: bytes, mode: str, comment_char: str = "#") -> bytes:
    """`git commit`'s cleanup for a message that no editor touched ("default" = "whitespace")."""
    if mode == "verbatim":
        return raw
    lines = raw.decode("utf-8", "surrogateescape").split("\n")
    if mode == "strip":
        lines = [line for line in lines if not line.startswith(comment_char)]
    out: list[str] = []
    for line in lines:
        line = line.rstrip(" \t\r\f\v")  # as re.sub(r"[ \t\r\f\v]+$", "", line)
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    if not out:
        return b""
    return ("\n".join(out) + "\n").encode("utf-8", "surrogateescape")


def subject(message: bytes) -> str:
    first = message.decode("utf-8", "replace").split("\n", 1)[0]
    return first[:120]
