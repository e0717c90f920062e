"""The responses checks on synthetic exchanges: each passes on a good input and fails on its fault's
effect (response, request, chunk, frame and error hooks run over the good input, as the server runs
them). Streams are framed as the server frames them (`event:` and `data:` lines) and read back by the
real reader."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from _check_cases import BASE, T0, Case, Cases, Json, case_tests, exchange, faulty, lazy, one

from compat_suite.checks import run
from compat_suite.exchange import RecordedRequest, StreamExchange
from compat_suite.sse import SSEReader
from reference_server.faults import FaultSet

REQ: Json = {"model": "m", "input": "hi", "max_output_tokens": 16}
MSG_ID = "msg_1"


def message(text: str = "hello there", status: str = "completed") -> Json:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"id": MSG_ID, "type": "message", "status": status, "role": "assistant", "content": [part]}


def response(
    text: str = "hello there", *, status: str = "completed", output_tokens: int = 2, **extra: Any
) -> Json:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": T0,
        "status": status,
        "completed_at": T0 if status == "completed" else None,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": None,
        "model": "m",
        "output": [message(text, status)],
        "parallel_tool_calls": True,
        "tools": [],
        "tool_choice": "auto",
        "temperature": 1.0,
        "top_p": 1.0,
        "metadata": {},
        "usage": {
            "input_tokens": 5,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 5 + output_tokens,
        },
        **extra,
    }


RESP = response()
CUT = response("one two", status="incomplete", output_tokens=16)


def resp(payload: Json = RESP, request: Json = REQ, **kw: Any) -> Any:
    return exchange("responses", request, payload, **kw)


def faulted(fault_id: str, payload: Json = RESP, request: Json = REQ, endpoint: str = "responses") -> Any:
    return resp(faulty(fault_id, endpoint, payload, request), request)


def served_request(fault_id: str, request: Json) -> Json:
    """The request as the server serves it with the fault's request hook."""
    return FaultSet([fault_id]).request("responses", copy.deepcopy(request))


def get(path: str, payload: Any, status: int = 200) -> Any:
    return exchange("responses", None, payload, status=status, url=f"{BASE}/responses/{path}")


# -- streams --------------------------------------------------------------------------------------------------
def events(deltas: tuple[str, ...] = ("hello", " there"), *, cut: bool = False) -> list[Json]:
    """A text response's events, as the Responses API streams them (without sequence numbers yet)."""
    text = "".join(deltas)
    status = "incomplete" if cut else "completed"
    start = {**response(), "status": "in_progress", "output": [], "usage": None, "completed_at": None}
    where = {"item_id": MSG_ID, "output_index": 0, "content_index": 0}
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    out: list[Json] = [
        {"type": "response.created", "response": start},
        {"type": "response.in_progress", "response": start},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**message(status="in_progress"), "content": []},
        },
        {"type": "response.content_part.added", **where, "part": part},
        *({"type": "response.output_text.delta", **where, "delta": d, "logprobs": []} for d in deltas),
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "part": {**part, "text": text}},
        {"type": "response.output_item.done", "output_index": 0, "item": message(text, status)},
        {
            "type": "response.incomplete" if cut else "response.completed",
            "response": response(text, status=status, output_tokens=16 if cut else 2),
        },
    ]
    return [{**e, "sequence_number": i} for i, e in enumerate(out)]


def stream(
    items: list[Json] | None = None, *, faults: tuple[str, ...] = (), request: Json = REQ
) -> StreamExchange:
    """A Responses stream: each event through the fault set's chunk and frame hooks, as the server frames it."""
    fs = FaultSet(faults)
    frames = []
    for position, event in enumerate(copy.deepcopy(items if items is not None else events())):
        shaped = fs.chunk("responses", event, position, request)
        if shaped is not None:
            frames.append(fs.frame(json.dumps(shaped), shaped.get("type")))
    body = b"".join(frames)
    ex = StreamExchange(
        "responses",
        RecordedRequest("POST", BASE + "/responses", {}, json.dumps({**request, "stream": True}).encode()),
        status=200,
        headers={"content-type": "text/event-stream"},
        body=body,
    )
    reader = SSEReader(expect_json=True)
    for i, frame in enumerate(frames):
        reader.feed(frame, received_ns=1_000_000 * (i + 1))
    reader.close()
    ex.events, ex.problems = list(reader.events), list(reader.problems)
    return ex


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
LISTED = {
    "object": "list",
    "data": [
        {
            "id": "msg_a",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_text", "text": "My name is Alice."}],
        },
        {
            "id": "msg_b",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_text", "text": "Who?"}],
        },
    ],
    "has_more": False,
    "first_id": "msg_a",
    "last_id": "msg_b",
}
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


def _retrieved_after_delete(fault_id: str | None) -> Any:
    status, envelope = (FaultSet([fault_id]) if fault_id else FaultSet()).error(404, copy.deepcopy(NOT_FOUND))
    return get("resp_1", envelope, status)


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
        lazy(
            lambda: (
                get("resp_1", {"id": "resp_1", "object": "response", "deleted": True}),
                _retrieved_after_delete(None),
            )
        ),
        lazy(
            lambda: (
                get("resp_1", {"id": "resp_1", "object": "response", "deleted": True}),
                _retrieved_after_delete("responses-deleted-still-found"),
            )
        ),
    ),
    "responses.store.honoured": (
        one(resp(request={**REQ, "store": False}), get("resp_1", NOT_FOUND, 404)),
        lazy(
            lambda: (
                resp(request={**REQ, "store": False}),
                # served without `store`, the response was stored, and the GET finds it
                get(
                    "resp_1",
                    RESP,
                    404
                    if "store" in served_request("responses-store-ignored", {**REQ, "store": False})
                    else 200,
                ),
            )
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
