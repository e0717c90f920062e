"""responses suite."""
