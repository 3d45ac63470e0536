"""Coordination across machines through the git remote every team already runs.

The server's ref updates are the only arbiter: a push that is not a fast-forward is refused, and
`--force-with-lease=REF:EXPECTED` updates a ref only while it holds the expected value. On top
of that: `push` (wt-commit --push: replay a commit onto a moved remote branch, never force),
`sync` (the safe pull), `lease` and `fence` (leases with fencing tokens, as refs on the remote or,
without one, in the local repository).
"""
