#!/bin/sh
# Verify the append-only journal for a pushed range, in any CI.
#
#   ci/verify-journal.sh OLD NEW    # what a push moved the branch from and to
#   ci/verify-journal.sh "" NEW     # a new branch (or OLD all zeros): NEW's whole history
#
# It fetches what verification needs (the full history of a shallow clone, the checkpoint
# refs, an OLD tip no branch holds any more) and then runs `git wt journal verify`, whose exit
# code it returns: 0 ok, 6 a journal violation or a rewritten history, 1 the range cannot be
# verified (treat as a failure), 2 bad usage. Needs git and worktree-tools (`git wt`) on PATH.
# WT_JOURNAL_REMOTE names the remote (default: origin).
set -eu
old="${1:-}"
new="${2:-HEAD}"
remote="${WT_JOURNAL_REMOTE:-origin}"

if ! command -v git-wt >/dev/null 2>&1; then
    echo "verify-journal: git-wt is not on PATH; install worktree-tools" >&2
    exit 1
fi
if [ "$(git rev-parse --is-shallow-repository)" = "true" ]; then
    echo "verify-journal: shallow clone, fetching the full history" >&2
    git fetch --quiet --unshallow "$remote"
fi
# Checkpoints live under refs/wt/; a non-fast-forward update here means one was rewritten.
git fetch --quiet "$remote" 'refs/wt/*:refs/wt/*'
case "$old" in
    "" | *[!0]*) ;;
    *) old="" ;;  # all zeros: a new branch
esac
if [ -n "$old" ] && ! git cat-file -e "$old^{commit}" 2>/dev/null; then
    # A force push leaves the old tip on no branch; a server may still serve it by id.
    git fetch --quiet "$remote" "$old" 2>/dev/null || true
fi
if [ -z "$old" ]; then
    exec git wt journal verify "$new"
fi
exec git wt journal verify "$old..$new"
