"""errors suite."""
