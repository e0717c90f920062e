"""streaming suite."""
