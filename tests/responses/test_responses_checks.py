"""The responses checks on synthetic exchanges: each passes on a good input and fails on its fault's
effect (response, request, chunk, frame and error hooks run over the good input, as the server runs
them). Streams are framed as the server frames them (`event:` and `data:` lines) and read back by the
real reader."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from _check_cases import Case, Cases, Json, case_tests, exchange, faulty, lazy, one
from _responses_cases import (
    CUT,
    LISTED,
    REQ,
    RESP,
    TOOL,
    TOOLS_REQ,
    call_events,
    called,
    events,
    faulted,
    function_call,
    get,
    resp,
    response,
    served_request,
    stream,
)

from compat_suite.checks import run
from compat_suite.exchange import StreamExchange
from reference_server.faults import FaultSet


def _framed(fault_id: str, items: list[Json] | None = None) -> tuple[Case, Case]:
    return lazy(lambda: stream(items)), lazy(lambda: stream(items, faults=(fault_id,)))


def _broken_then_error() -> StreamExchange:
    """The error fault's stream: the terminal event fails to send, the server reports it as an error
    event and `response.failed`, and the fault nests the error event."""
    fs = FaultSet(["responses-stream-error-nested"])
    good = events()
    with pytest.raises(RuntimeError):
        fs.chunk("responses", copy.deepcopy(good[-1]), len(good) - 1, REQ)
    error = {
        "type": "error",
        "code": "server_error",
        "message": "boom",
        "param": None,
        "sequence_number": len(good) - 1,
    }
    failed = {
        "type": "response.failed",
        "response": {**good[-1]["response"], "status": "failed"},
        "sequence_number": len(good),
    }
    failed["response"]["error"] = {"code": "server_error", "message": "boom"}
    return stream([*good[:-1], error, failed], faults=("responses-stream-error-nested",))


# -- the cases ------------------------------------------------------------------------------------------------
FOLLOW_UP = response(output_tokens=3)
FOLLOW_UP["usage"] = {**FOLLOW_UP["usage"], "input_tokens": 12, "total_tokens": 15}
CONVERSATION = [
    {"role": "user", "content": "My name is Alice."},
    {"role": "user", "content": [{"type": "input_text", "text": "Who?"}]},
]
NOT_FOUND = {
    "error": {
        "message": "Response with id 'resp_1' not found.",
        "type": "invalid_request_error",
        "param": None,
        "code": "response_not_found",
    }
}
PREVIOUS_NOT_FOUND = {
    "error": {
        "message": "Previous response with id 'resp_1' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }
}
JSON_REQ = {**REQ, "text": {"format": {"type": "json_object"}}}
SCHEMA_REQ = {
    **REQ,
    "text": {
        "format": {"type": "json_schema", "name": "place", "strict": True, "schema": TOOL["parameters"]}
    },
}
ROUND_TRIP_REQ = {
    **TOOLS_REQ,
    "input": [function_call(), {"type": "function_call_output", "call_id": "call_1", "output": "Sunny."}],
}
LOST_CALL = {"error": {"message": "input[1] answers tool call 'call_x', which no assistant message made",
                       "type": "invalid_request_error", "param": "input[1].call_id", "code": "invalid_value"}}  # fmt: skip


def _retrieved_after_delete(fault_id: str | None) -> Any:
    status, envelope = (FaultSet([fault_id]) if fault_id else FaultSet()).error(404, copy.deepcopy(NOT_FOUND))
    return get("resp_1", envelope, status)


def _streamed_by_default(fault_id: str) -> Any:
    """The answer to a request without `stream`, as served with the fault: an event stream."""
    request = {k: v for k, v in REQ.items() if k != "stream"}
    assert served_request(fault_id, request).get("stream") is True
    raw = stream().body
    return exchange("responses", request, None, raw=raw, headers={"content-type": "text/event-stream"})


DELETED = {"id": "resp_1", "object": "response", "deleted": True}


def _stored_status() -> int:
    """What a GET finds after a store: false create, served with the store-ignoring fault."""
    return 404 if "store" in served_request("responses-store-ignored", {**REQ, "store": False}) else 200


def _refused_with(fault_id: str, status: int, envelope: Json) -> Any:
    """The refusal as the fault's error hook answers it."""
    new_status, new_envelope = FaultSet([fault_id]).error(status, copy.deepcopy(envelope))
    return resp(new_envelope, status=new_status)


def _served_with(fault_id: str, request: Json, good: Json, ignored: Json) -> Case:
    """The answer to `request` as served with a request-editing fault: `ignored` where the fault removed
    what the request asked for, `good` where it did not."""
    return one(resp(ignored if served_request(fault_id, request) != request else good, request))


CASES: Cases = {
    "responses.response.schema": (one(resp()), lazy(lambda: faulted("responses-output-missing"))),
    "responses.response.object": (one(resp()), lazy(lambda: faulted("responses-object-wrong"))),
    "responses.response.id": (
        one(resp(), resp({**RESP, "id": "resp_2"})),
        lazy(
            lambda: (faulted("responses-id-reused"), faulted("responses-id-reused", {**RESP, "id": "resp_2"}))
        ),
    ),
    "responses.response.id-prefix": (one(resp()), lazy(lambda: faulted("responses-id-unprefixed"))),
    "responses.response.created-at": (one(resp()), lazy(lambda: faulted("responses-created-at-ms"))),
    "responses.response.status": (one(resp(CUT)), lazy(lambda: faulted("responses-status-contradicts"))),
    "responses.incomplete.max-output-tokens": (
        one(resp(CUT)),
        lazy(lambda: faulted("responses-cut-reported-completed", CUT)),
    ),
    "responses.output-text.joined": (
        one(resp({**RESP, "output_text": "hello there"})),
        lazy(lambda: faulted("responses-output-text-wrong")),
    ),
    "responses.usage.present": (one(resp()), lazy(lambda: faulted("responses-usage-missing"))),
    "responses.usage.sum": (one(resp()), lazy(lambda: faulted("responses-usage-sum-off-by-one"))),
    "responses.max-output-tokens.respected": (
        one(resp(CUT)),
        _served_with("responses-max-output-tokens-raised", REQ, CUT, response(output_tokens=40)),
    ),
    "responses.stream.default-off": (
        one(resp(request={k: v for k, v in REQ.items() if k != "stream"})),
        lazy(lambda: _streamed_by_default("responses-stream-by-default")),
    ),
    "responses.stream.event-schema": _framed("responses-stream-delta-logprobs-missing"),
    "responses.stream.event-type": _framed("responses-stream-event-line-unprefixed"),
    "responses.stream.sequence": _framed("responses-stream-sequence-zero"),
    "responses.stream.lifecycle": _framed("responses-stream-in-progress-missing"),
    "responses.stream.indices": _framed("responses-stream-item-id-wrong"),
    "responses.stream.text-adds-up": _framed("responses-stream-done-text-differs"),
    "responses.stream.final-response": _framed("responses-stream-final-output-empty"),
    "responses.stream.matches-unary": (
        lazy(lambda: (stream(), resp())),
        lazy(lambda: (stream(faults=("responses-stream-text-upper",)), resp())),
    ),
    "responses.stream.error-event": (lazy(lambda: stream(events(cut=True))), lazy(_broken_then_error)),
    "responses.retrieve.same": (
        one(resp(), get("resp_1", RESP)),
        lazy(
            lambda: (
                resp(),
                get("resp_1", faulty("responses-retrieve-output-empty", "responses.retrieve", RESP, {})),
            )
        ),
    ),
    "responses.input-items.schema": (
        one(get("resp_1/input_items", LISTED)),
        lazy(
            lambda: get(
                "resp_1/input_items",
                faulty("responses-input-items-has-more-missing", "responses.input_items", LISTED, {}),
            )
        ),
    ),
    "responses.input-items.listed": (
        one(resp(request={**REQ, "input": CONVERSATION}), get("resp_1/input_items?order=asc", LISTED)),
        lazy(
            lambda: (
                resp(request={**REQ, "input": CONVERSATION}),
                get(
                    "resp_1/input_items?order=asc",
                    faulty("responses-input-items-reversed", "responses.input_items", LISTED, {}),
                ),
            )
        ),
    ),
    "responses.delete.removes": (
        lambda: ((get("resp_1", DELETED),), {"retrieved_after": _retrieved_after_delete(None)}),
        lambda: (
            (get("resp_1", DELETED),),
            {"retrieved_after": _retrieved_after_delete("responses-deleted-still-found")},
        ),
    ),
    "responses.store.honoured": (
        lambda: ((resp(request={**REQ, "store": False}),), {"retrieved": get("resp_1", NOT_FOUND, 404)}),
        # served without `store`, the response was stored, and the GET finds it
        lambda: (
            (resp(request={**REQ, "store": False}),),
            {"retrieved": get("resp_1", RESP, _stored_status())},
        ),
    ),
    "responses.previous-response.carries": (
        one(resp(), resp(FOLLOW_UP, {**REQ, "previous_response_id": "resp_1"})),
        one(
            resp(), resp(response(), {**REQ, "previous_response_id": "resp_1"})
        ),  # served fresh: 5 input tokens
    ),
    "responses.previous-response.unknown": (
        one(resp(PREVIOUS_NOT_FOUND, status=404)),
        lazy(lambda: _refused_with("responses-previous-response-unknown-500", 404, PREVIOUS_NOT_FOUND)),
    ),
    "responses.instructions.effect": (
        one(
            resp(response(), {**REQ, "instructions": "Be brief."}),
            resp(FOLLOW_UP, {**REQ, "instructions": "Be brief. Be kind."}),
        ),
        one(
            resp(response(), {**REQ, "instructions": "Be brief."}),
            resp(response(), {**REQ, "instructions": "Be brief. Be kind."}),
        ),
    ),
    "responses.function-call.valid": (
        one(resp(called(), TOOLS_REQ)),
        lazy(lambda: faulted("responses-function-call-arguments-cut", called(), TOOLS_REQ)),
    ),
    "responses.stream.arguments-add-up": (
        lazy(lambda: stream(call_events(), request=TOOLS_REQ)),
        lazy(
            lambda: stream(
                call_events(), request=TOOLS_REQ, faults=("responses-stream-arguments-done-differs",)
            )
        ),
    ),
    "responses.function-call-output.round-trip": (
        one(resp(response(), ROUND_TRIP_REQ)),
        lazy(lambda: _refused_with("responses-function-call-output-lost", 400, LOST_CALL)),
    ),
    "responses.tool-choice.effect": (
        one(resp(called(), TOOLS_REQ)),
        _served_with("responses-tool-choice-ignored", TOOLS_REQ, called(), response("It is sunny in Paris.")),
    ),
    "responses.text-format.schema": (
        one(resp(response('{"city": "Paris"}'), SCHEMA_REQ)),
        _served_with(
            "responses-text-format-schema-ignored",
            SCHEMA_REQ,
            response('{"city": "Paris"}'),
            response("Paris."),
        ),
    ),
    "responses.text-format.json": (
        one(resp(response('{"answer": "blue"}'), JSON_REQ)),
        _served_with(
            "responses-text-format-ignored",
            JSON_REQ,
            response('{"answer": "blue"}'),
            response("The sky is blue."),
        ),
    ),
}

test_check_passes_on_good_input, test_check_fails_on_fault_effect = case_tests(CASES)


# -- what the cases above do not show ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "check_id, request_body",
    [("responses.text-format.json", JSON_REQ), ("responses.text-format.schema", SCHEMA_REQ)],
)
def test_a_response_the_limit_cut_is_judged_by_how_its_text_began(check_id: str, request_body: Json) -> None:
    """Cut JSON is documented (not judged); cut prose shows text.format was ignored all the same."""
    assert run(check_id, resp(response('{"city": "Par', status="incomplete"), request_body)).passed
    ignored = run(check_id, resp(response("Paris is a city in", status="incomplete"), request_body))
    assert not ignored.passed and "never began as JSON" in ignored.message


def test_a_refusal_naming_the_parameter_counts_as_honoured() -> None:
    refused = {
        "error": {"message": "no", "type": "invalid_request_error", "param": "instructions", "code": None}
    }
    assert run(
        "responses.instructions.effect", resp(refused, {**REQ, "instructions": "x"}, status=400)
    ).passed
    other = {"error": {**refused["error"], "param": "input"}}
    assert not run(
        "responses.instructions.effect", resp(other, {**REQ, "instructions": "x"}, status=400)
    ).passed
    text_refused = {"error": {**refused["error"], "param": "text.format"}}
    assert run("responses.text-format.json", resp(text_refused, JSON_REQ, status=400)).passed


def test_a_cut_stream_ends_incomplete_and_passes_the_grammar() -> None:
    cut = stream(events(cut=True))
    for check_id in (
        "responses.stream.lifecycle",
        "responses.stream.final-response",
        "responses.stream.indices",
    ):
        outcome = run(check_id, cut)
        assert outcome.passed, outcome.message


def test_the_lifecycle_names_what_is_out_of_order() -> None:
    good = events()
    swapped = [*good[:5], good[6], good[5], *good[7:]]  # output_text.done before the last delta
    outcome = run("responses.stream.lifecycle", stream(swapped))
    assert not outcome.passed and "output_text.delta" in outcome.message
    no_end = stream(good[:-1])
    outcome = run("responses.stream.lifecycle", no_end)
    assert not outcome.passed and "no terminal event" in outcome.message


def test_other_event_types_are_valid_and_not_judged() -> None:
    reasoning = {"type": "response.reasoning_text.delta", "item_id": "rs_1", "output_index": 0, "delta": "hm"}
    items = events()
    mixed = [*items[:2], {**reasoning, "sequence_number": 1}, *items[2:]]
    mixed = [{**e, "sequence_number": i} for i, e in enumerate(mixed)]
    for check_id in (
        "responses.stream.event-schema",
        "responses.stream.lifecycle",
        "responses.stream.sequence",
    ):
        outcome = run(check_id, stream(mixed))
        assert outcome.passed, f"{check_id}: {outcome.message}"
