"""Strict JSON (RFC 8259): NaN and Infinity, which Python's json module accepts, are not JSON, and the
SDKs refuse them."""

from __future__ import annotations

import json
import json.scanner


def reject_constant(name: str) -> float:
    """A `parse_constant` for `json.loads` that refuses NaN and Infinity."""
    raise ValueError(f"{name} is not valid JSON")


# The C scanner behind json.loads, called directly: it skips two Python frames per SSE event.
_scan_once = json.scanner.make_scanner(json.JSONDecoder(parse_constant=reject_constant))
_strict_loads = json.JSONDecoder(parse_constant=reject_constant).decode


def is_json(text: str) -> bool:
    """Whether `text` is exactly one JSON document (surrounding whitespace allowed)."""
    try:
        if _scan_once(text, 0)[1] == len(text):
            return True
    except (StopIteration, ValueError, RecursionError):  # RecursionError: hostile nesting depth
        pass
    try:  # the slow path: leading or trailing whitespace, or not JSON at all
        _strict_loads(text)
    except (ValueError, RecursionError):
        return False
    return True
