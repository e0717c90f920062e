"""performance suite."""
