"""The git-level backstop (the reference-transaction shim and its policy), the proof that a ref
move is worktree-tools' own, and the wt-commit command a refusal suggests instead."""
