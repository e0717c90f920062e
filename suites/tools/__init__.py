"""tools suite."""
