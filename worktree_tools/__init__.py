"""worktree-tools: let many agents share one git repository without stepping on each other."""

__version__ = "0.1.0"
