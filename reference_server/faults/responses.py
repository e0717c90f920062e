"""Faults that fail the responses checks: the Response object, the event stream, stored responses and
conversation state, and parameters served as if absent.

Endpoint names as reference_server/responses serves them: `responses` (create), `responses.retrieve`,
`responses.delete`, `responses.input_items`. Stream faults rewrite one event type each, so that the
rest of the stream stays consistent and only the intended rule breaks.
"""

from __future__ import annotations

from . import _generation as shared
from . import _responses_edits as edits
from ._hooks import chunk_hook, code, drop, error_when, on, put, request_edit, without
from ._registry import Fault, fault
from ._responses_edits import CREATE, on_events

FIXED_ID = "resp_compat_suite_fixed_0000"


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
        response=on(CREATE, edits.status_contradicts),
    )
)
fault(
    Fault(
        "responses-cut-reported-completed",
        "responses.incomplete.max-output-tokens",
        "an answer cut by max_output_tokens says `completed`",
        response=on(CREATE, edits.cut_reported_completed),
    )
)
fault(
    Fault(
        "responses-output-text-wrong",
        "responses.output-text.joined",
        "an `output_text` that is not the joined text",
        response=on(CREATE, lambda p, r: {**p, "output_text": edits.message_text(p) + " (and more)"}),
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
        response=on(CREATE, shared.usage_off_by_one),
    )
)
fault(
    Fault(
        "responses-max-output-tokens-raised",
        "responses.max-output-tokens.respected",
        "raises max_output_tokens before serving",
        request=request_edit(CREATE, edits.max_output_tokens_raised),
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
        chunk=on_events(
            "response.output_text.delta", lambda e: {k: v for k, v in e.items() if k != "logprobs"}
        ),
    )
)
fault(
    Fault(
        "responses-stream-event-line-unprefixed",
        "responses.stream.event-type",
        '`event:` lines without the "response." of their type',
        frame=edits.frame_event_unprefixed,
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
        chunk=on_events("response.in_progress", lambda e: None),
    )
)
fault(
    Fault(
        "responses-stream-item-id-wrong",
        "responses.stream.indices",
        "text deltas name another item_id",
        chunk=on_events("response.output_text.delta", lambda e: {**e, "item_id": "msg_compat_suite_other"}),
    )
)
fault(
    Fault(
        "responses-stream-done-text-differs",
        "responses.stream.text-adds-up",
        "output_text.done says more than the deltas did",
        chunk=on_events("response.output_text.done", lambda e: {**e, "text": f"{e.get('text')} (and more)"}),
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
        chunk=chunk_hook(lambda p, pos: edits.upper_texts(p), CREATE),
    )
)
fault(
    Fault(
        "responses-stream-error-nested",
        "responses.stream.error-event",
        'the stream breaks after the answer, and its error event is {"error": {...}} without code, message, param',
        chunk=chunk_hook(edits.error_event_nested, CREATE),
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
fault(
    Fault(
        "responses-function-call-arguments-cut",
        "responses.function-call.valid",
        "function_call arguments cut after 8 characters (not JSON)",
        response=on(CREATE, edits.arguments_cut),
    )
)
fault(
    Fault(
        "responses-stream-arguments-done-differs",
        "responses.stream.arguments-add-up",
        "function_call_arguments.done says more than the argument deltas did",
        chunk=on_events(
            "response.function_call_arguments.done", lambda e: {**e, "arguments": f"{e.get('arguments')} "}
        ),
    )
)
fault(
    Fault(
        "responses-function-call-output-lost",
        "responses.function-call-output.round-trip",
        "a function_call_output's call_id is lost before serving: the round trip is refused",
        request=request_edit(CREATE, edits.call_output_unanswerable),
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
        request=request_edit(CREATE, edits.schema_format_dropped),
    )
)
