"""The append-only journal: configuration, rules, the staged check, history verification,
checkpoints and the safe way to append.

Only `gate` is meant for wt-commit's hot path; it never imports pygit2.
"""
