"""Faults that fail the stream checks: the chunks, their SSE framing and the stream's end."""

from __future__ import annotations

import re

from ._hooks import GENERATION, choices, chunk_hook
from ._registry import DEFAULT_TERMINATOR, Fault, Json, default_frame, fault

_ID_VALUE = re.compile(rb'"id":\s*"')


def _chunk_id_changes(payload: Json, position: int) -> Json:
    return {**payload, "id": f"{payload.get('id')}-{position}"}


def _chunk_created_changes(payload: Json, position: int) -> Json:
    return {**payload, "created": int(payload.get("created", 0)) + position}


def _no_role(payload: Json, position: int) -> Json:
    for choice in choices(payload):
        if isinstance(choice.get("delta"), dict):
            choice["delta"] = {k: v for k, v in choice["delta"].items() if k != "role"}
    return payload


def _finish_everywhere(payload: Json, position: int) -> Json:
    for choice in choices(payload):
        choice["finish_reason"] = choice.get("finish_reason") or "stop"
    return payload


def _drop_usage_chunk(payload: Json, position: int) -> Json | None:
    return None if payload.get("choices") == [] and payload.get("usage") else payload


def _usage_everywhere(payload: Json, position: int) -> Json:
    if payload.get("usage"):
        return payload
    return {**payload, "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def _upper_text(payload: Json, position: int) -> Json:
    for choice in choices(payload):
        delta = choice.get("delta")
        if isinstance(delta, dict) and isinstance(delta.get("content"), str):
            choice["delta"] = {**delta, "content": delta["content"].upper()}
        elif isinstance(choice.get("text"), str):
            choice["text"] = choice["text"].upper()
    return payload


def _think_first(payload: Json, position: int) -> Json:
    # The first content delta opens with reasoning markup (content after the role chunk).
    for choice in choices(payload):
        delta = choice.get("delta")
        if position == 1 and isinstance(delta, dict) and isinstance(delta.get("content"), str):
            choice["delta"] = {**delta, "content": "<think>hmm</think>" + delta["content"]}
    return payload


def _bare_error(payload: Json, position: int) -> Json:
    # A mid-stream error as a bare string, not the envelope, after the first content chunk.
    return {"error": "the model crashed"} if position == 2 else payload


def _frame_invalid_utf8(data: str, event: str | None = None) -> bytes:
    # Inside the id's value, so the JSON still parses once decoded leniently.
    return _ID_VALUE.sub(lambda m: m.group(0) + b"\xff", default_frame(data, event), count=1)


def _frame_no_blank_line(data: str, event: str | None = None) -> bytes:
    return default_frame(data, event)[:-1]


def _frame_broken_json(data: str, event: str | None = None) -> bytes:
    return default_frame(data, event) + b"data: {broken\n\n"


def _stream_content_type(endpoint: str, headers: dict[str, str]) -> None:
    # Unary JSON answers are application/json already; only streams change.
    if endpoint in GENERATION:
        headers["content-type"] = "application/json"


fault(
    Fault(
        "stream-content-type-json",
        "stream.content-type",
        "streams served as application/json",
        headers=_stream_content_type,
    )
)
fault(
    Fault(
        "stream-chunk-model-missing",
        "stream.chunk.schema",
        "chunks lack `model`",
        chunk=chunk_hook(lambda p, pos: {k: v for k, v in p.items() if k != "model"}),
    )
)
fault(
    Fault(
        "stream-chunk-object-wrong",
        "stream.chunk.object",
        'chunks\' `object` is "chat.completion"',
        chunk=chunk_hook(lambda p, pos: {**p, "object": "chat.completion"}),
    )
)
fault(
    Fault(
        "stream-id-changes",
        "stream.id.consistent",
        "each chunk has its own id",
        chunk=chunk_hook(_chunk_id_changes),
    )
)
fault(
    Fault(
        "stream-created-changes",
        "stream.created.consistent",
        "`created` ticks per chunk",
        chunk=chunk_hook(_chunk_created_changes),
    )
)
fault(
    Fault(
        "stream-no-role",
        "stream.role.first",
        "no delta carries `role`",
        chunk=chunk_hook(_no_role, ("chat",)),
    )
)
fault(
    Fault(
        "stream-finish-twice",
        "stream.finish-reason.once-last",
        "every chunk carries finish_reason",
        chunk=chunk_hook(_finish_everywhere),
    )
)
fault(
    Fault(
        "stream-usage-chunk-missing",
        "stream.usage.final-chunk",
        "include_usage is ignored",
        chunk=chunk_hook(_drop_usage_chunk),
    )
)
fault(
    Fault(
        "stream-usage-every-chunk",
        "stream.usage.null-elsewhere",
        "usage on every chunk",
        chunk=chunk_hook(_usage_everywhere),
    )
)
fault(Fault("stream-no-done", "stream.done-terminator", "no [DONE]", terminator=lambda: b""))
fault(
    Fault(
        "stream-invalid-utf8",
        "stream.sse.utf8",
        "a byte 0xFF inside each chunk's id",
        frame=_frame_invalid_utf8,
    )
)
fault(
    Fault(
        "stream-missing-blank-line",
        "stream.sse.blank-line",
        "events end with one newline, not a blank line",
        frame=_frame_no_blank_line,
    )
)
fault(
    Fault(
        "stream-non-json-data",
        "stream.sse.json-data",
        "a `data: {broken` event after each chunk",
        frame=_frame_broken_json,
    )
)
fault(
    Fault(
        "stream-data-after-done",
        "stream.sse.after-done",
        "an event after [DONE]",
        terminator=lambda: DEFAULT_TERMINATOR + b'data: {"late": true}\n\n',
    )
)
fault(
    Fault(
        "stream-truncated",
        "stream.sse.complete",
        "the stream stops mid-event, with no [DONE]",
        terminator=lambda: b'data: {"id": "cut-off',
    )
)
fault(
    Fault(
        "stream-text-differs",
        "stream.text.matches-unary",
        "streamed text is upper-cased",
        chunk=chunk_hook(_upper_text),
    )
)
fault(
    Fault(
        "stream-error-bare",
        "stream.error.event",
        "a mid-stream error as a bare string, not the envelope",
        chunk=chunk_hook(_bare_error),
    )
)
fault(
    Fault(
        "stream-not-streamed",
        "stream.is-streamed",
        "the whole stream is sent in one write",
        batch_stream=True,
    )
)


def _frame_bare_json(data: str, event: str | None = None) -> bytes:
    """Each chunk as bare JSON, one a line: no `data:` field, so no event at all."""
    return data.encode("utf-8") + b"\n"


fault(
    Fault(
        "stream-bare-json-lines",
        "stream.is-event-stream",
        "a stream's chunks as bare JSON lines, with no `data:` field: no event stream",
        frame=_frame_bare_json,
        terminator=lambda: b"",
    )
)


def _created_ms(payload: Json, position: int) -> Json:
    return {**payload, "created": int(payload.get("created", 0)) * 1000}


def _final_usage(payload: Json, counted: str) -> Json | None:
    """The usage of the stream's usage-only chunk, where it counts `counted` as an integer."""
    usage = payload.get("usage")
    if payload.get("choices") == [] and isinstance(usage, dict) and isinstance(usage.get(counted), int):
        return usage
    return None


def _usage_total_wrong(payload: Json, position: int) -> Json:
    usage = _final_usage(payload, "total_tokens")
    if usage is None:
        return payload
    return {**payload, "usage": {**usage, "total_tokens": usage["total_tokens"] + 5}}


def _usage_prompt_inflated(payload: Json, position: int) -> Json:
    """The streamed usage counts a longer prompt than the unary answer does (its sum still adds up)."""
    usage = _final_usage(payload, "prompt_tokens")
    if usage is None:
        return payload
    return {
        **payload,
        "usage": {
            **usage,
            "prompt_tokens": usage["prompt_tokens"] + 23,
            "total_tokens": usage["total_tokens"] + 23,
        },
    }


def _usage_unrequested(endpoint: str, payload: Json, position: int, request: Json) -> Json:
    """Usage on the finishing chunk although the request did not ask for it."""
    options = request.get("stream_options")
    asked = isinstance(options, dict) and options.get("include_usage") is True
    finishing = any(c.get("finish_reason") for c in choices(payload))
    if endpoint in GENERATION and not asked and finishing:
        return {**payload, "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}
    return payload


def _frame_after_ping(data: str, event: str | None = None) -> bytes:
    """An `event: ping` block with no data before each event (the SDKs fail on it; the spec skips it)."""
    return b"event: ping\n\n" + default_frame(data, event)


fault(
    Fault(
        "stream-created-ms",
        "stream.created.consistent",
        "`created` in milliseconds",
        chunk=chunk_hook(_created_ms),
    )
)
fault(
    Fault(
        "stream-usage-total-wrong",
        "stream.usage.final-chunk",
        "the usage chunk's total is five more than its sum",
        chunk=chunk_hook(_usage_total_wrong),
    )
)
fault(
    Fault(
        "stream-usage-prompt-inflated",
        "stream.usage.matches-unary",
        "streamed usage counts 23 more prompt tokens than the unary answer",
        chunk=chunk_hook(_usage_prompt_inflated),
    )
)
fault(
    Fault(
        "stream-usage-unrequested",
        "stream.usage.unrequested",
        "usage on the last chunk although include_usage was not asked for",
        chunk=_usage_unrequested,
    )
)
fault(
    Fault(
        "stream-ping-events",
        "stream.sse.event-has-data",
        "an `event: ping` block with no data before each event",
        frame=_frame_after_ping,
    )
)
fault(
    Fault(
        "stream-reasoning-in-content",
        "stream.reasoning.separate",
        "streamed content opens with <think> text",
        chunk=chunk_hook(_think_first, ("chat",)),
    )
)
