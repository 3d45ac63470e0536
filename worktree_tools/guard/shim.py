"""The reference-transaction shim: a POSIX shell fast path in front of the Python policy.

git runs this hook for every ref transaction (`fetch` runs it twice per updated ref), so the shim
decides in shell builtins alone whether there is anything to decide: Python (`git wt guard hook`)
starts only when an agent touches a branch, HEAD or refs/stash at `prepared`, or when a branch
moved at `committed` (to log it), and never for worktree-tools' own moves (see permit.py).
"""

from __future__ import annotations

from worktree_tools.core.permit import PASS_PREFIX
from worktree_tools.core.statefiles import GUARD_PASSES as PASS_DIR
from worktree_tools.guard.actor import shell_test

NAME = "reference-transaction"


def text(mark: str, chained_suffix: str) -> str:
    return f"""#!/bin/sh
{mark}: {NAME}
# Installed by `git wt hooks install`; `git wt hooks uninstall` puts back what was here (kept
# meanwhile as {NAME}{chained_suffix}, which this shim runs). Policy: git config wt.guard
# off|warn|refuse (docs/agents.md). Pure shell until there is something to decide.
state=$1
input=
branch=
touched=
while IFS= read -r line; do
    input="$input$line
"
    set -- $line
    [ "$1" = "$2" ] && continue
    case $3 in
        refs/heads/*) branch=1; touched=1 ;;
        HEAD|refs/stash) touched=1 ;;
    esac
done
set -- "$state"
decide=
case $state in
    prepared)
        if [ -n "$touched" ] && {{ {shell_test()}; }}; then
            decide=1
        fi ;;
    committed) decide=$branch ;;
esac
wt_passed() {{
    # worktree-tools' own move: git (our parent) was started by a live pass holder whose start
    # time matches its pass file (worktree_tools/core/permit.py). Linux /proc only; elsewhere
    # Python checks the same thing.
    [ -r "/proc/$PPID/stat" ] || return 1
    read -r st < "/proc/$PPID/stat" || return 1
    set -- ${{st##*") "}}
    owner=$2
    gd=${{GIT_DIR:-.git}}
    common=$gd
    if [ -r "$gd/commondir" ]; then
        read -r common < "$gd/commondir" || return 1
        case $common in /*) ;; *) common=$gd/$common ;; esac
    fi
    wt_pass_of "$owner" && return 0
    # `git worktree add` runs `git update-ref` itself: one git process in between is allowed.
    read -r st < "/proc/$owner/stat" || return 1
    case $st in *" (git) "*) ;; *) return 1 ;; esac
    set -- ${{st##*") "}}
    wt_pass_of "$2"
}}
wt_pass_of() {{
    pass="$common/wt/{PASS_DIR}/{PASS_PREFIX}$1"
    [ -r "$pass" ] || return 1
    read -r pid start < "$pass" || return 1
    [ "$pid" = "$1" ] || return 1
    read -r st < "/proc/$1/stat" || return 1
    set -- ${{st##*") "}}
    [ "$start" = "${{20}}" ]
}}
if [ -n "$decide" ] && ! wt_passed; then
    wt=${{WT_GIT_WT:-git-wt}}
    if command -v "$wt" >/dev/null 2>&1; then
        printf '%s' "$input" | "$wt" guard hook "$state" --git-pid "$PPID" || exit $?
    else
        echo "worktree-tools: $wt is not on PATH; the {NAME} guard is not checking" >&2
    fi
fi
chained="${{0%/*}}/{NAME}{chained_suffix}"
if [ -x "$chained" ]; then
    printf '%s' "$input" | "$chained" "$state"
    exit $?
fi
exit 0
"""
