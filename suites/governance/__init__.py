"""governance suite."""
