"""clients suite."""
