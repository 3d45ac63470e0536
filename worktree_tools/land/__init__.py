"""`git wt land`: a merge queue per target branch (see docs/land.md)."""
