"""Per-agent worktrees: allocation, leases, handoffs, garbage collection that never loses work.

State lives in the common git dir (`<commondir>/wt/worktrees/<agent>/`) as small JSON records,
each written atomically under the repository lock; every transition appends to the event log.
"""
