"""`git wt mcp`: the toolkit's commands as Model Context Protocol tools over stdio."""
