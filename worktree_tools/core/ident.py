"""The author and committer lines `git commit-tree` would write now, where git's rules give them
without asking anyone: wt-commit then writes its commit object itself (core/commits), one git
process fewer per commit (about 2 ms of CPU).

What git does (ident.c, fmt_ident with IDENT_STRICT), kept here:
- the name is $GIT_AUTHOR_NAME (or $GIT_COMMITTER_NAME), else a non-empty author.name (or
  committer.name), else user.name; the email likewise from $GIT_AUTHOR_EMAIL, author.email,
  user.email, and $EMAIL only when no *.email key is set at all (and user.useConfigOnly is not
  set: git then refuses);
- each is written without "crud" at either end (bytes up to a space, and `.,:;<>"\\'`) and
  without any `<`, `>` or newline inside;
- the date is now, in whole seconds, with the local offset from UTC as git computes it
  (`+HHMM`), the same for both lines.

Left to git (`lines` answers None and the caller runs commit-tree): a name or email git would
have to guess (the password database, the host name) or refuse (empty, only crud, a key set
without a value), a date in the environment ($GIT_AUTHOR_DATE, $GIT_COMMITTER_DATE: git parses
many formats), and a commit encoding other than UTF-8 (i18n.commitEncoding). The commit object's
text must also be UTF-8 as git checks it (`valid_utf8`), else git would rewrite it as Latin-1,
and hold no NUL byte (git refuses that message).
tests/core/test_ident.py compares the lines with what `git commit-tree` writes.

On wt-commit's hot path: os and time only.
"""

from __future__ import annotations

import os
import time

from worktree_tools.core.fields import git_bool

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
    "user.useconfigonly",
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
    if given is not None:
        return os.fsencode(given) or None  # the bytes of the environment; git refuses ""
    named = config.get(f"{role}.name") or None
    if named is None:
        # ident_default_name: user.name as set once any *.name key is set, else a guess
        if not any(key in config for key in ("user.name", "author.name", "committer.name")):
            return None
        named = config.get("user.name", "")
    return _config_bytes(named) or None


def _email(role: str, config: Mapping[str, str], env: Mapping[str, str]) -> bytes | None:
    given = env.get(f"GIT_{role.upper()}_EMAIL")
    if given is not None:
        return os.fsencode(given) or None
    named = config.get(f"{role}.email") or None
    if named is None:
        # ident_default_email: user.email as set once any *.email key is set, else $EMAIL,
        # else a guess from the host
        if not any(key in config for key in ("user.email", "author.email", "committer.email")):
            if git_bool(config.get("user.useconfigonly", "false")) is not False:
                return None  # git refuses: "no email was given and auto-detection is disabled"
            return os.fsencode(env.get("EMAIL", "")) or None
        named = config.get("user.email", "")
    return _config_bytes(named) or None


def _config_bytes(value: str) -> bytes:
    """The bytes git printed (PendingConfig decodes them as UTF-8 with surrogateescape, whatever
    the locale)."""
    return value.encode("utf-8", "surrogateescape")


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
    """The local offset from UTC at `seconds`, as git's local_time_tzoffset computes it: the
    local broken-down time read back as if it were UTC (tm_to_time_t), less `seconds`, in whole
    minutes, written `%+05d` of hours * 100 + minutes. In a zone that counts leap seconds
    (`right/...`) this is not tm_gmtoff: git writes `+0159` in Berlin's summer."""
    t_local = _tm_to_time_t(time.localtime(seconds))
    if t_local == -1:
        return b"+0000"  # git's "error; just use +0000"
    minutes = abs(t_local - seconds) // 60
    value = minutes % 60 + (minutes // 60) * 100
    return b"%+05d" % (-value if t_local < seconds else value)


_MONTH_DAYS = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)


def _tm_to_time_t(tm: time.struct_time) -> int:
    """git's tm_to_time_t (date.c): for 1970-2099 only, -1 outside."""
    year = tm.tm_year - 1970
    month = tm.tm_mon - 1
    day = tm.tm_mday
    if year < 0 or year > 129 or month < 0 or month > 11:
        return -1
    if month < 2 or (year + 2) % 4:
        day -= 1
    if tm.tm_hour < 0 or tm.tm_min < 0 or tm.tm_sec < 0:
        return -1
    days = year * 365 + (year + 1) // 4 + _MONTH_DAYS[month] + day
    return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec


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
