"""Harness adapters: `git wt agent install|uninstall HARNESS` and the hooks they install."""
