"""Faults that fail the responses checks: the Response object, the event stream, stored responses and
conversation state, and parameters served as if absent.

Endpoint names as reference_server/responses serves them: `responses` (create), `responses.retrieve`,
`responses.delete`, `responses.input_items`. Stream faults rewrite one event type each, so that the
rest of the stream stays consistent and only the intended rule breaks.
"""

from __future__ import annotations

import time
from typing import Any

from ._hooks import chunk_hook, code, drop, error_when, on, put, request_edit, without
from ._registry import Fault, Json, default_frame, fault

CREATE = ("responses",)
FIXED_ID = "resp_compat_suite_fixed_0000"


def _texts(item: Any) -> str:
    content = item.get("content") if isinstance(item, dict) else None
    return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


def _joined(payload: Json) -> str:
    return "".join(
        _texts(i) for i in payload.get("output") or [] if isinstance(i, dict) and i.get("type") == "message"
    )


def _status_contradicts(payload: Json, request: Json) -> Json:
    if payload.get("status") == "incomplete":
        return {**payload, "incomplete_details": None}
    return {**payload, "incomplete_details": {"reason": "content_filter"}}


def _cut_reported_completed(payload: Json, request: Json) -> Json:
    if payload.get("status") != "incomplete":
        return payload
    return {**payload, "status": "completed", "incomplete_details": None, "completed_at": int(time.time())}


def _usage_off_by_one(payload: Json, request: Json) -> Json:
    usage = payload.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("total_tokens"), int):
        return {**payload, "usage": {**usage, "total_tokens": usage["total_tokens"] + 1}}
    return payload


def _max_output_tokens_raised(body: Json) -> Json:
    if isinstance(body.get("max_output_tokens"), int):
        body["max_output_tokens"] = body["max_output_tokens"] * 8 + 64
    return body


def _on_events(kind: str, edit: Any) -> Any:
    """A chunk hook for the Responses stream that rewrites the events of one `type`."""

    def hook(payload: Json, position: int) -> Json | None:
        return edit(payload) if payload.get("type") == kind else payload

    return chunk_hook(hook, CREATE)


def _upper(value: Any, key: str | None = None) -> Any:
    """Every text of the stream upper-cased alike (deltas, done texts, parts, items, responses)."""
    if isinstance(value, dict):
        return {k: _upper(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_upper(v) for v in value]
    return value.upper() if isinstance(value, str) and key in ("delta", "text") else value


def _error_event_nested(payload: Json, position: int) -> Json | None:
    # The answer is complete; its terminal event fails to send (the server then reports the error in
    # the stream), and the error event comes chat-style, nested, without code, message and param.
    kind = payload.get("type")
    if kind in ("response.completed", "response.incomplete"):
        raise RuntimeError("fault: the stream broke after the answer")
    if kind == "error":
        error = {"message": payload.get("message"), "code": payload.get("code")}
        return {"type": "error", "error": error, "sequence_number": payload.get("sequence_number")}
    return payload


def _schema_format_dropped(body: Json) -> Json:
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        body["text"] = {**body["text"], "format": {"type": "text"}}
    return body


def _frame_event_unprefixed(data: str, event: str | None = None) -> bytes:
    return default_frame(data, event.removeprefix("response.") if event else None)


# -- the Response object ------------------------------------------------------------------------------------
fault(
    Fault(
        "responses-output-missing",
        "responses.response.schema",
        "no `output`",
        response=on(CREATE, drop("output")),
    )
)
fault(
    Fault(
        "responses-object-wrong",
        "responses.response.object",
        '`object` is "responses"',
        response=on(CREATE, put("object", "responses")),
    )
)
fault(
    Fault(
        "responses-id-reused",
        "responses.response.id",
        "every response has the same id",
        response=on(CREATE, put("id", FIXED_ID)),
    )
)
fault(
    Fault(
        "responses-id-unprefixed",
        "responses.response.id-prefix",
        'ids without the "resp_" prefix',
        response=on(CREATE, lambda p, r: {**p, "id": str(p.get("id", "")).removeprefix("resp_")}),
    )
)
fault(
    Fault(
        "responses-created-at-ms",
        "responses.response.created-at",
        "`created_at` in milliseconds",
        response=on(CREATE, lambda p, r: {**p, "created_at": int(p.get("created_at", 0)) * 1000}),
    )
)
fault(
    Fault(
        "responses-status-contradicts",
        "responses.response.status",
        "incomplete_details contradicts `status` (a reason on a completed response, none on an incomplete one)",
        response=on(CREATE, _status_contradicts),
    )
)
fault(
    Fault(
        "responses-cut-reported-completed",
        "responses.incomplete.max-output-tokens",
        "an answer cut by max_output_tokens says `completed`",
        response=on(CREATE, _cut_reported_completed),
    )
)
fault(
    Fault(
        "responses-output-text-wrong",
        "responses.output-text.joined",
        "an `output_text` that is not the joined text",
        response=on(CREATE, lambda p, r: {**p, "output_text": _joined(p) + " (and more)"}),
    )
)
fault(
    Fault(
        "responses-usage-missing", "responses.usage.present", "no `usage`", response=on(CREATE, drop("usage"))
    )
)
fault(
    Fault(
        "responses-usage-sum-off-by-one",
        "responses.usage.sum",
        "total_tokens is one more than the sum",
        response=on(CREATE, _usage_off_by_one),
    )
)
fault(
    Fault(
        "responses-max-output-tokens-raised",
        "responses.max-output-tokens.respected",
        "raises max_output_tokens before serving",
        request=request_edit(CREATE, _max_output_tokens_raised),
    )
)

# -- the stream -------------------------------------------------------------------------------------------------
fault(
    Fault(
        "responses-stream-by-default",
        "responses.stream.default-off",
        "a request that leaves `stream` out is streamed",
        request=request_edit(CREATE, lambda body: {**body, "stream": body.get("stream", True)}),
    )
)
fault(
    Fault(
        "responses-stream-delta-logprobs-missing",
        "responses.stream.event-schema",
        "output_text.delta events lack `logprobs`",
        chunk=_on_events(
            "response.output_text.delta", lambda e: {k: v for k, v in e.items() if k != "logprobs"}
        ),
    )
)
fault(
    Fault(
        "responses-stream-event-line-unprefixed",
        "responses.stream.event-type",
        '`event:` lines without the "response." of their type',
        frame=_frame_event_unprefixed,
    )
)
fault(
    Fault(
        "responses-stream-sequence-zero",
        "responses.stream.sequence",
        "every event has sequence_number 0",
        chunk=chunk_hook(lambda p, pos: {**p, "sequence_number": 0} if "sequence_number" in p else p, CREATE),
    )
)
fault(
    Fault(
        "responses-stream-in-progress-missing",
        "responses.stream.lifecycle",
        "no `response.in_progress` event",
        chunk=_on_events("response.in_progress", lambda e: None),
    )
)
fault(
    Fault(
        "responses-stream-item-id-wrong",
        "responses.stream.indices",
        "text deltas name another item_id",
        chunk=_on_events("response.output_text.delta", lambda e: {**e, "item_id": "msg_compat_suite_other"}),
    )
)
fault(
    Fault(
        "responses-stream-done-text-differs",
        "responses.stream.text-adds-up",
        "output_text.done says more than the deltas did",
        chunk=_on_events("response.output_text.done", lambda e: {**e, "text": f"{e.get('text')} (and more)"}),
    )
)
fault(
    Fault(
        "responses-stream-final-output-empty",
        "responses.stream.final-response",
        "the terminal event's response has no output",
        chunk=chunk_hook(
            lambda p, pos: (
                {**p, "response": {**p["response"], "output": []}}
                if p.get("type") in ("response.completed", "response.incomplete")
                else p
            ),
            CREATE,
        ),
    )
)
fault(
    Fault(
        "responses-stream-text-upper",
        "responses.stream.matches-unary",
        "every streamed text is upper-cased (the unary answer is not)",
        chunk=chunk_hook(lambda p, pos: _upper(p), CREATE),
    )
)
fault(
    Fault(
        "responses-stream-error-nested",
        "responses.stream.error-event",
        'the stream breaks after the answer, and its error event is {"error": {...}} without code, message, param',
        chunk=chunk_hook(_error_event_nested, CREATE),
    )
)

# -- stored responses and conversation state ---------------------------------------------------------------------
fault(
    Fault(
        "responses-retrieve-output-empty",
        "responses.retrieve.same",
        "a retrieved response has no output",
        response=on(("responses.retrieve",), put("output", [])),
    )
)
fault(
    Fault(
        "responses-input-items-has-more-missing",
        "responses.input-items.schema",
        "input_items pages lack `has_more`",
        response=on(("responses.input_items",), drop("has_more")),
    )
)
fault(
    Fault(
        "responses-input-items-reversed",
        "responses.input-items.listed",
        "input_items come last first whatever `order` asks",
        response=on(
            ("responses.input_items",), lambda p, r: {**p, "data": list(reversed(p.get("data") or []))}
        ),
    )
)
fault(
    Fault(
        "responses-deleted-still-found",
        "responses.delete.removes",
        "a deleted response is still answered (200) when asked for",
        error=error_when(code("response_not_found"), 200),
    )
)
fault(
    Fault(
        "responses-store-ignored",
        "responses.store.honoured",
        "drops `store` before serving: everything is stored",
        request=request_edit(CREATE, without("store")),
    )
)
fault(
    Fault(
        "responses-previous-response-ignored",
        "responses.previous-response.carries",
        "drops `previous_response_id` before serving",
        request=request_edit(CREATE, without("previous_response_id")),
    )
)
fault(
    Fault(
        "responses-previous-response-unknown-500",
        "responses.previous-response.unknown",
        "a previous_response_id that is not stored is a 500",
        error=error_when(code("previous_response_not_found"), 500),
    )
)


# -- function calls -------------------------------------------------------------------------------------------------
def _arguments_cut(payload: Json, request: Json) -> Json:
    # Arguments cut short, as servers that stream them under batching have sent (vLLM#10589).
    for item in payload.get("output") or []:
        if isinstance(item, dict) and item.get("type") == "function_call":
            item["arguments"] = str(item.get("arguments", ""))[:8]
    return payload


def _call_output_unanswerable(body: Json) -> Json:
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


fault(
    Fault(
        "responses-function-call-arguments-cut",
        "responses.function-call.valid",
        "function_call arguments cut after 8 characters (not JSON)",
        response=on(CREATE, _arguments_cut),
    )
)
fault(
    Fault(
        "responses-stream-arguments-done-differs",
        "responses.stream.arguments-add-up",
        "function_call_arguments.done says more than the argument deltas did",
        chunk=_on_events(
            "response.function_call_arguments.done", lambda e: {**e, "arguments": f"{e.get('arguments')} "}
        ),
    )
)
fault(
    Fault(
        "responses-function-call-output-lost",
        "responses.function-call-output.round-trip",
        "a function_call_output's call_id is lost before serving: the round trip is refused",
        request=request_edit(CREATE, _call_output_unanswerable),
    )
)

# -- parameters served as if absent --------------------------------------------------------------------------------
fault(
    Fault(
        "responses-instructions-ignored",
        "responses.instructions.effect",
        "drops `instructions` before serving",
        request=request_edit(CREATE, without("instructions")),
    )
)
fault(
    Fault(
        "responses-text-format-ignored",
        "responses.text-format.json",
        "drops `text` (its format) before serving",
        request=request_edit(CREATE, without("text")),
    )
)
fault(
    Fault(
        "responses-tool-choice-ignored",
        "responses.tool-choice.effect",
        "drops `tool_choice` before serving (auto: the model may not call)",
        request=request_edit(CREATE, without("tool_choice")),
    )
)
fault(
    Fault(
        "responses-text-format-schema-ignored",
        "responses.text-format.schema",
        "serves a json_schema text.format as plain text",
        request=request_edit(CREATE, _schema_format_dropped),
    )
)
