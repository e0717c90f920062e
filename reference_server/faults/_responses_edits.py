"""The edits the responses faults make: the Response object's fields, its stream's events, and the
function calls it carries."""

from __future__ import annotations

import time
from typing import Any

from ._hooks import chunk_hook
from ._registry import Json, default_frame

CREATE = ("responses",)


def _texts(item: Any) -> str:
    content = item.get("content") if isinstance(item, dict) else None
    return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


def message_text(payload: Json) -> str:
    return "".join(
        _texts(i) for i in payload.get("output") or [] if isinstance(i, dict) and i.get("type") == "message"
    )


def status_contradicts(payload: Json, request: Json) -> Json:
    if payload.get("status") == "incomplete":
        return {**payload, "incomplete_details": None}
    return {**payload, "incomplete_details": {"reason": "content_filter"}}


def cut_reported_completed(payload: Json, request: Json) -> Json:
    if payload.get("status") != "incomplete":
        return payload
    return {**payload, "status": "completed", "incomplete_details": None, "completed_at": int(time.time())}


def max_output_tokens_raised(body: Json) -> Json:
    if isinstance(body.get("max_output_tokens"), int):
        body["max_output_tokens"] = body["max_output_tokens"] * 8 + 64
    return body


def on_events(kind: str, edit: Any) -> Any:
    """A chunk hook for the Responses stream that rewrites the events of one `type`."""

    def hook(payload: Json, position: int) -> Json | None:
        return edit(payload) if payload.get("type") == kind else payload

    return chunk_hook(hook, CREATE)


def upper_texts(value: Any, key: str | None = None) -> Any:
    """Every text of the stream upper-cased alike (deltas, done texts, parts, items, responses)."""
    if isinstance(value, dict):
        return {k: upper_texts(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [upper_texts(v) for v in value]
    return value.upper() if isinstance(value, str) and key in ("delta", "text") else value


def error_event_nested(payload: Json, position: int) -> Json | None:
    # The answer is complete; its terminal event fails to send (the server then reports the error in
    # the stream), and the error event comes chat-style, nested, without code, message and param.
    kind = payload.get("type")
    if kind in ("response.completed", "response.incomplete"):
        raise RuntimeError("fault: the stream broke after the answer")
    if kind == "error":
        error = {"message": payload.get("message"), "code": payload.get("code")}
        return {"type": "error", "error": error, "sequence_number": payload.get("sequence_number")}
    return payload


def schema_format_dropped(body: Json) -> Json:
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        body["text"] = {**body["text"], "format": {"type": "text"}}
    return body


def frame_event_unprefixed(data: str, event: str | None = None) -> bytes:
    return default_frame(data, event.removeprefix("response.") if event else None)


def arguments_cut(payload: Json, request: Json) -> Json:
    # Arguments cut short, as servers that stream them under batching have sent (vLLM#10589).
    for item in payload.get("output") or []:
        if isinstance(item, dict) and item.get("type") == "function_call":
            item["arguments"] = str(item.get("arguments", ""))[:8]
    return payload


def call_output_unanswerable(body: Json) -> Json:
    # Every function_call_output answers a call nobody made: the server then refuses the round trip.
    items = body.get("input")
    if isinstance(items, list):
        body["input"] = [
            {**i, "call_id": "call_compat_suite_lost"}
            if isinstance(i, dict) and i.get("type") == "function_call_output"
            else i
            for i in items
        ]
    return body
