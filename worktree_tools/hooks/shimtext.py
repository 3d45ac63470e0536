"""The text of the hook shims `git wt hooks install` writes (hooks/install.py places them).

The shim finds `git-wt` on PATH when it runs and never records a path into one worktree's
virtualenv (RACES R15); it runs the hook it replaced (`<name>.wt-chained`) so that it sees the
name it was installed under (husky's stubs dispatch on their own file name).
"""

from __future__ import annotations

SHIM_MARK = "# worktree-tools hook shim"
CHAINED_SUFFIX = ".wt-chained"


def shim_text(name: str) -> str:
    """The shim for hook `name`; `hooks/<name>` in the source tree is a copy of this text."""
    if name == "reference-transaction":  # the guard's shell fast path (guard/shim.py)
        from worktree_tools.guard import shim

        return shim.text(SHIM_MARK, CHAINED_SUFFIX)
    return f"""#!/bin/sh
{SHIM_MARK}: {name}
# Installed by `git wt hooks install`; `git wt hooks uninstall` puts back what was here
# (kept meanwhile as {name}{CHAINED_SUFFIX}, which this shim runs as if it were still named
# {name}). git-wt is looked up on PATH (or $WT_GIT_WT) each time, never a path into one
# worktree's virtualenv.
hooks_dir=$(cd "$(dirname "$0")" && pwd)
wt=${{WT_GIT_WT:-git-wt}}
{_under_wt_commit(name)}if command -v "$wt" >/dev/null 2>&1; then
    exec "$wt" hooks run {name} --hooks-dir "$hooks_dir" -- "$@"
else
    echo "worktree-tools: $wt is not on PATH; running the chained {name} hook without its guard" >&2
fi
c="$hooks_dir/{name}{CHAINED_SUFFIX}"
[ -x "$c" ] || exit 0
case "$(head -n 1 "$c")" in
*/bash*|*" bash"*) WT_CHAINED_HOOK="$c" exec bash -c '. "$WT_CHAINED_HOOK"' "$0" "$@" ;;
*/sh|*/sh" "*|*" sh"|*" sh "*) WT_CHAINED_HOOK="$c" exec sh -c '. "$WT_CHAINED_HOOK"' "$0" "$@" ;;
esac
exec "$c" "$@"
"""


def _under_wt_commit(name: str) -> str:
    """The shim's fast path for a hook wt-commit itself runs: wt-commit holds the hook lock and
    applies the journal rules, so the shim has nothing to add to the chained hook and starts no
    Python. The proof is hooks/marker.py's, in shell builtins, at least as strict: the mark
    `PID:NONCE:GITDIR` names our parent, `GITDIR/wt-hooks.json` (written by it before the hook
    started) names that pid, that nonce and our working directory, and the parent started
    before the record (not a reused pid). Anything else, or anything unexpected (another JSON
    layout, no /proc), takes the Python path, which checks the same thing. The chained hook then
    runs as the Python path runs it (sourced with $0 = the hook's name for a shell script)."""
    from worktree_tools.hooks.marker import HELD_ENV, RECORD_NAME

    if name != "pre-commit":
        return ""
    return f"""wt_commit_runs_us() {{
    m=${{{HELD_ENV}:-}}
    pid=${{m%%:*}}; rest=${{m#*:}}; nonce=${{rest%%:*}}; gd=${{rest#*:}}
    [ -n "$m" ] && [ "$pid" = "$PPID" ] && [ -n "$nonce" ] && [ "$rest" != "$m" ] || return 1
    IFS= read -r rec < "$gd/{RECORD_NAME}" || [ -n "$rec" ] || return 1
    case $rec in *'{{"pid": '"$pid"', '*) ;; *) return 1 ;; esac
    case $rec in *'"cwd": "'"$PWD"'", "started": '*) ;; *) return 1 ;; esac
    case $rec in *'"nonce": "'"$nonce"'"}}') ;; *) return 1 ;; esac
    started=${{rec#*'"started": '}}; started=${{started%%[.,]*}}
    case $started in ''|*[!0-9]*) return 1 ;; esac
    read -r st < "/proc/$pid/stat" || return 1
    set -- ${{st##*") "}}
    ticks=${{20}}
    btime=
    while read -r key value; do [ "$key" = btime ] && btime=$value && break; done < /proc/stat
    [ -n "$btime" ] && [ $((btime + ticks / 100)) -le $((started + 1)) ]
}}
if wt_commit_runs_us 2>/dev/null; then
    :  # run by wt-commit: the chained hook alone (below), no Python
el"""
