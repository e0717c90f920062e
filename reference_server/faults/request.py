"""Faults that fail the request checks: a spec-valid request refused."""

from __future__ import annotations

from ._registry import Fault, Json, fault


def _refuse_system_parts(endpoint: str, body: Json) -> Json:
    """A server error for a system message whose content is an array of parts (seen in the field:
    the parser expects a string there)."""
    messages = body.get("messages") if endpoint == "chat" else None
    for message in messages if isinstance(messages, list) else []:
        if (
            isinstance(message, dict)
            and message.get("role") == "system"
            and isinstance(message.get("content"), list)
        ):
            raise TypeError('can only concatenate str (not "list") to str')
    return body


fault(
    Fault(
        "request-system-parts-500",
        "request.accepted",
        "a 500 for a system message whose content is an array of text parts",
        request=_refuse_system_parts,
    )
)
