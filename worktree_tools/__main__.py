"""`python -m worktree_tools ...` is `git wt ...`."""

from worktree_tools.cli import git_wt_main

git_wt_main()
