"""Worktree environments: ignored files brought along, setup/teardown, slots, disk."""
