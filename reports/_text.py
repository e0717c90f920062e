"""Values as the report shows them: hostile strings made printable and cut, JSON pretty-printed,
numbers short."""

from __future__ import annotations

import json
import re
from typing import Any

from ._plots import fmt
from ._runs import MAX_TEXT

# Evidence is hostile input: it is shown escaped, with control bytes made visible and long bodies cut
# (strings are cut when the run is read; a pretty-printed JSON value can still grow past the limit).
EVIDENCE_LIMIT = MAX_TEXT + 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def printable(text: str, limit: int = EVIDENCE_LIMIT) -> str:
    """`text` with control characters shown as `\\xNN` and cut after `limit` characters."""
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text[:limit])
    if len(text) > limit:
        shown += f"\n… ({len(text) - limit:,} more characters not shown)"
    return shown


def as_text(value: Any) -> str:
    """A body or any JSON value as readable text: JSON pretty-printed, strings as they are."""
    if value is None:
        return ""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "[") and len(value) <= EVIDENCE_LIMIT:
            try:
                return printable(json.dumps(json.loads(value), indent=2, ensure_ascii=False))
            except ValueError:
                pass
        return printable(value)
    return printable(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def number(value: Any) -> float | None:
    """`value` as a float when it is a JSON number (a bool is not one), else None."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def scalar(value: Any) -> str:
    """A table cell's text: yes/no, a short number, "–" for nothing, other JSON compact."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    as_number = number(value)
    if as_number is not None:
        return fmt(as_number)
    if value is None:
        return "–"
    return value if isinstance(value, str) else json.dumps(value, default=str)
