"""The root cause of a spec-valid request that was not served: the request is accepted.

The Verifier asks this check first of every answer a scenario needs as a 2xx (a JSON body or an event
stream): when it fails, its finding is the one root cause, and the checks that needed the answer are
`blocked` instead of failing one by one on an error body ("`id` is null", "`choices` is null", ...).
"""

from __future__ import annotations

from typing import Any

import schemas

from ..exchange import Exchange
from . import _common as c
from ._registry import MUST, Finding, check

ENDPOINTS = ("chat", "completions", "embeddings", "models", "model")
REQUEST_COMPONENTS = {
    "chat": "CreateChatCompletionRequest",
    "completions": "CreateCompletionRequest",
    "embeddings": "CreateEmbeddingRequest",
}


@check("request.accepted", severity=MUST, endpoints=ENDPOINTS)
def request_accepted(exchange: Exchange) -> None:
    """A spec-valid request gets a 2xx answer, not a refusal or a server error."""
    if exchange.status is None:
        why = exchange.transport_error or "no status"
        raise Finding(f"no answer to a spec-valid request: {why}", c.evidence(exchange))
    if 200 <= exchange.status < 300:
        return
    raise Finding(
        f"a spec-valid request was refused with {exchange.status}{_said(exchange)}; {_why_valid(exchange)}",
        c.evidence(exchange, request_fields=_fields(c.request_body(exchange))),
    )


def _said(exchange: Exchange) -> str:
    """What the refusal said, in short: the envelope's message, or the start of the body."""
    payload = exchange.json
    error = payload.get("error") if isinstance(payload, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str):
        message = exchange.body[:120].decode("utf-8", errors="backslashreplace")
    return f" ({message[:160]!r})" if message else ""


def _why_valid(exchange: Exchange) -> str:
    """Why the request is valid, citing the request component and the fields it sent."""
    component = REQUEST_COMPONENTS.get(exchange.endpoint)
    if component is None or exchange.request.method != "POST":
        return f"{exchange.request.method} {exchange.endpoint} is a documented operation"
    body = exchange.request.json
    found = schemas.errors(component, body) if isinstance(body, dict) else None
    if found is None:
        return "the request body is not a JSON object (the suite's own mistake: please report it)"
    if found:
        return f"but the request breaks {component} at `{found[0].param}` (the suite's own mistake)"
    return f"it is valid against {component} (schemas/openapi.yaml): {_fields(body)}"


def _fields(body: dict[str, Any]) -> str:
    """The fields a request set, with the shape of its messages (where a server's parsing breaks)."""
    shown = []
    for name, value in body.items():
        if name == "messages" and isinstance(value, list):
            shapes = [_message_shape(m) for m in value[:6]]
            shown.append(f"messages [{', '.join(shapes)}]")
        else:
            shown.append(name)
    return ", ".join(shown)


def _message_shape(message: Any) -> str:
    if not isinstance(message, dict):
        return type(message).__name__
    content = message.get("content")
    kind = "text parts" if isinstance(content, list) else "null" if content is None else "text"
    return f"{message.get('role')}: {kind}"
