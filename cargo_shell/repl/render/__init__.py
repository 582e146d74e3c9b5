"""How the shell shows things: results, plans, errors, job progress and agent events (rich)."""
