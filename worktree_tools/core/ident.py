"""The author and committer lines `git commit-tree` would write now, where git's rules give them
without asking anyone: wt-commit then writes its commit object itself (core/commits), one git
process fewer per commit (about 2 ms of CPU).

What git does (ident.c, fmt_ident with IDENT_STRICT), kept here:
- the name is $GIT_AUTHOR_NAME (or $GIT_COMMITTER_NAME), else a non-empty author.name (or
  committer.name), else user.name; the email likewise from $GIT_AUTHOR_EMAIL, author.email,
  user.email, and $EMAIL only when no *.email key is set at all;
- each is written without "crud" at either end (bytes up to a space, and `.,:;<>"\\'`) and
  without any `<`, `>` or newline inside;
- the date is now, in whole seconds, with the local offset from UTC as `+HHMM`, the same for
  both lines.

Left to git (`lines` answers None and the caller runs commit-tree): a name or email git would
have to guess (the password database, the host name) or refuse (empty, only crud, a key set
without a value), a date in the environment ($GIT_AUTHOR_DATE, $GIT_COMMITTER_DATE: git parses
many formats), and a commit encoding other than UTF-8 (i18n.commitEncoding). The commit object's
text must also be UTF-8 as git checks it (`valid_utf8`), else git would rewrite it as Latin-1.
tests/core/test_ident.py compares the lines with what `git commit-tree` writes.

On wt-commit's hot path: os and time only.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Set

# The configuration git's identity comes from (PendingConfig reads it with the rest).
CONFIG_KEYS = (
    "user.name",
    "user.email",
    "author.name",
    "author.email",
    "committer.name",
    "committer.email",
    "i18n.commitencoding",
)
_CRUD = frozenset(b".,:;<>\"\\'")


def lines(
    config: Mapping[str, str],
    valueless: Set[str] = frozenset(),
    environ: Mapping[str, str] | None = None,
    now: float | None = None,
) -> tuple[bytes, bytes] | None:
    """(author, committer): `NAME <EMAIL> SECONDS +HHMM` each, as commit-tree would write them
    at `now` (else the current time); None when git must decide (see the module's docstring)."""
    env = os.environ if environ is None else environ
    if "GIT_AUTHOR_DATE" in env or "GIT_COMMITTER_DATE" in env:
        return None
    if any(key in valueless for key in CONFIG_KEYS):
        return None  # git refuses a name, email or encoding set without a value
    encoding = config.get("i18n.commitencoding")
    if encoding is not None and encoding.lower() not in ("utf-8", "utf8"):
        return None
    seconds = int(time.time() if now is None else now)
    date = b" %d %s" % (seconds, _offset(seconds))
    out = []
    for role in ("author", "committer"):
        name = _name(role, config, env)
        email = _email(role, config, env)
        if name is None or email is None:
            return None
        clean_name = _without_crud(name)
        clean_email = _without_crud(email)
        if not clean_name or not clean_email:
            return None  # git refuses a name of crud only; an empty email it writes, rarely
        out.append(clean_name + b" <" + clean_email + b">" + date)
    return out[0], out[1]


def _name(role: str, config: Mapping[str, str], env: Mapping[str, str]) -> bytes | None:
    given = env.get(f"GIT_{role.upper()}_NAME")
    if given is None:
        given = config.get(f"{role}.name") or None
    if given is None:
        # ident_default_name: user.name as set once any *.name key is set, else a guess
        if not any(key in config for key in ("user.name", "author.name", "committer.name")):
            return None
        given = config.get("user.name", "")
    return os.fsencode(given) if given else None


def _email(role: str, config: Mapping[str, str], env: Mapping[str, str]) -> bytes | None:
    given = env.get(f"GIT_{role.upper()}_EMAIL")
    if given is None:
        given = config.get(f"{role}.email") or None
    if given is None:
        # ident_default_email: user.email as set once any *.email key is set, else $EMAIL,
        # else a guess from the host
        if any(key in config for key in ("user.email", "author.email", "committer.email")):
            given = config.get("user.email", "")
        else:
            given = env.get("EMAIL") or None
    return os.fsencode(given) if given else None


def _without_crud(text: bytes) -> bytes:
    """git's strbuf_addstr_without_crud: no crud at either end, no `<`, `>`, newline inside."""
    start, end = 0, len(text)
    while start < end and _crud(text[start]):
        start += 1
    while end > start and _crud(text[end - 1]):
        end -= 1
    return text[start:end].replace(b"\n", b"").replace(b"<", b"").replace(b">", b"")


def _crud(c: int) -> bool:
    return c <= 32 or c in _CRUD


def _offset(seconds: int) -> bytes:
    """The local offset from UTC at `seconds`, as git's local_tzoffset writes it (`%+05d` of
    hours * 100 + minutes, truncated to whole minutes)."""
    gmtoff = time.localtime(seconds).tm_gmtoff
    minutes = abs(gmtoff) // 60
    value = (minutes // 60) * 100 + minutes % 60
    return b"%+05d" % (-value if gmtoff < 0 else value)


def valid_utf8(data: bytes) -> bool:
    """git's check of a commit's text (find_invalid_utf8): UTF-8 with no surrogate, nothing past
    U+10FFFF, and no non-character (U+FDD0..U+FDEF, U+xxFFFE, U+xxFFFF)."""
    if data.isascii():
        return True
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    for ch in text:
        point = ord(ch)
        if point >= 0xFDD0 and (point <= 0xFDEF or point & 0xFFFE == 0xFFFE):
            return False
    return True
