"""load suite."""
