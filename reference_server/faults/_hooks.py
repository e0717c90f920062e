"""Small building blocks of fault hooks, shared by the area modules.

Response edits take `(payload, request)`, request edits take the body (a copy), chunk edits take
`(payload, position)`; `on`, `request_edit` and `chunk_hook` turn them into hooks for some endpoints.
"""

from __future__ import annotations

from typing import Any

from ._registry import Json

GENERATION = ("chat", "completions")


def on(endpoints: tuple[str, ...], edit: Any) -> Any:
    """A response hook that applies `edit(payload, request)` only on `endpoints`."""

    def hook(endpoint: str, payload: Json, request: Json) -> Json:
        return edit(payload, request) if endpoint in endpoints else payload

    return hook


def request_edit(endpoints: tuple[str, ...], edit: Any) -> Any:
    """A request hook that applies `edit(body)` to a copy of the body only on `endpoints`."""

    def hook(endpoint: str, body: Json) -> Json:
        return edit(dict(body)) if endpoint in endpoints else body

    return hook


def chunk_hook(edit: Any, endpoints: tuple[str, ...] = GENERATION) -> Any:
    """A chunk hook that applies `edit(payload, position)` only on `endpoints`."""

    def hook(endpoint: str, payload: Json, position: int, request: Json) -> Json | None:
        return edit(payload, position) if endpoint in endpoints else payload

    return hook


def choices(payload: Json) -> list[Json]:
    found = payload.get("choices")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def items(payload: Json) -> list[Json]:
    data = payload.get("data")
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def put(key: str, value: Any) -> Any:
    def edit(payload: Json, request: Json) -> Json:
        return {**payload, key: value}

    return edit


def drop(key: str) -> Any:
    def edit(payload: Json, request: Json) -> Json:
        return {k: v for k, v in payload.items() if k != key}

    return edit


def without(*keys: str) -> Any:
    def edit(body: Json) -> Json:
        for key in keys:
            body.pop(key, None)
        return body

    return edit


def error_when(match: Any, status: int | None = None, edit: Any = None) -> Any:
    """An error hook: where `match(status, error)` holds, change the status and/or the envelope."""

    def hook(old_status: int, envelope: Json) -> tuple[int, Json]:
        error = envelope.get("error") if isinstance(envelope.get("error"), dict) else {}
        if not match(old_status, error):
            return old_status, envelope
        return (status if status is not None else old_status), (edit(envelope) if edit else envelope)

    return hook


def code(value: str) -> Any:
    """A match for `error_when`: the error's `code` is `value`."""
    return lambda status, error: error.get("code") == value
