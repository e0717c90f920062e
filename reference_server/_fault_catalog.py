"""The catalogue of faults, one per check id (registered on import)."""
