"""Imports every check module so that each check registers itself once."""

# Each area's module is listed here as it lands.
