"""The tools checks on synthetic exchanges: each passes on a good input and fails on its fault's effect
(response and chunk faults run their own hook over the good input; a parameter ignored is the answer
the server gives when it ignores it). The builders are in tests/_check_cases.py."""

from __future__ import annotations

import copy
import json

import pytest
from _check_cases import (
    CHAT,
    CHAT_REQ,
    Case,
    Cases,
    Json,
    case_tests,
    chat,
    err,
    exchange,
    hook_case,
    lazy,
    one,
    stream,
    with_,
)

from compat_suite.checks import run
from compat_suite.exchange import Exchange

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}
TOOLS_REQ: Json = {**CHAT_REQ, "tools": [WEATHER, TIME]}
ARGS = '{"city": "Paris", "unit": "c"}'


def call(name: str = "get_weather", arguments: str = ARGS, id_: str = "call_1") -> Json:
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": arguments}}


def called(*calls: Json, finish: str = "tool_calls", content: str | None = None) -> Json:
    message = {"role": "assistant", "content": content, "tool_calls": list(calls)}
    return with_(CHAT, choices=[{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}])


ONE_CALL = called(call())
TWO_CALLS = called(call(), call("get_time", "{}", "call_2"))
NO_CALL = CHAT


def req(**params: object) -> Json:
    return {**TOOLS_REQ, **params}


# -- streams -----------------------------------------------------------------------------------------------
def _chunk(delta: Json, finish: str | None = None) -> Json:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        "usage": None,
    }


def call_chunks(arguments: tuple[str, ...] = ('{"city": ', '"Paris"}')) -> list[Json]:
    first = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    chunks = [_chunk({"role": "assistant", "content": ""}), _chunk({"tool_calls": [first]})]
    chunks += [_chunk({"tool_calls": [{"index": 0, "function": {"arguments": a}}]}) for a in arguments]
    usage = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    return [*chunks, _chunk({}, "tool_calls"), {**_chunk({}), "choices": [], "usage": usage}]


STREAM_REQ: Json = {**TOOLS_REQ, "stream": True, "stream_options": {"include_usage": True}}


def streamed(fault: str | None = None, request: Json = STREAM_REQ) -> Case:
    return lazy(
        lambda: stream(
            "chat", copy.deepcopy(call_chunks()), faults=(fault,) if fault else (), request=request
        )
    )


def unary_of_stream() -> Json:
    return called(call(arguments='{"city": "Paris"}'))


def _effect(request: Json, honoured: Json, ignored: Json) -> tuple[Case, Case]:
    return one(chat(honoured, request)), one(chat(ignored, request))


STRICT = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
STRICT_REQ = {
    **CHAT_REQ,
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "p", "schema": STRICT, "strict": True},
    },
}
JSON_REQ = {**CHAT_REQ, "response_format": {"type": "json_object"}}


def content(text: str) -> Json:
    return with_(CHAT, choices=[{**CHAT["choices"][0], "message": {"role": "assistant", "content": text}}])


ROUND_TRIP_REQ = {
    **TOOLS_REQ,
    "messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [call()]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ],
}

CASES: Cases = {
    "tools.call.shape": hook_case(chat, "tools-call-type-wrong", ONE_CALL, TOOLS_REQ),
    "tools.call.id": hook_case(chat, "tools-call-id-empty", TWO_CALLS, TOOLS_REQ),
    "tools.call.name-declared": hook_case(chat, "tools-call-name-undeclared", ONE_CALL, TOOLS_REQ),
    "tools.call.arguments-string": hook_case(chat, "tools-arguments-object", ONE_CALL, TOOLS_REQ),
    "tools.call.arguments-valid": hook_case(chat, "tools-arguments-invalid", ONE_CALL, TOOLS_REQ),
    "tools.finish-reason": hook_case(chat, "tools-finish-stop", ONE_CALL, TOOLS_REQ),
    "tools.call.not-in-content": hook_case(chat, "tools-call-in-content", ONE_CALL, TOOLS_REQ),
    "tools.stream.index": (streamed(), streamed("tools-stream-no-index")),
    "tools.stream.first-delta": (streamed(), streamed("tools-stream-id-late")),
    "tools.stream.later-deltas": (streamed(), streamed("tools-stream-id-changes")),
    "tools.stream.arguments-valid": (streamed(), streamed("tools-stream-arguments-null")),
    "tools.stream.finish-reason": (streamed(), streamed("tools-stream-finish-stop")),
    "tools.stream.matches-unary": (
        lazy(lambda: (stream("chat", call_chunks(), request=STREAM_REQ), chat(unary_of_stream(), TOOLS_REQ))),
        lazy(
            lambda: (
                stream(
                    "chat", call_chunks(), faults=("tools-stream-arguments-respaced",), request=STREAM_REQ
                ),
                chat(unary_of_stream(), TOOLS_REQ),
            )
        ),
    ),
    "tools.choice.none": _effect(req(tool_choice="none"), NO_CALL, ONE_CALL),
    "tools.choice.required": _effect(req(tool_choice="required"), ONE_CALL, NO_CALL),
    "tools.choice.named": _effect(
        req(tool_choice={"type": "function", "function": {"name": "get_time"}}),
        called(call("get_time", "{}")),
        ONE_CALL,
    ),
    "tools.parallel.off": _effect(
        req(tool_choice="required", parallel_tool_calls=False), ONE_CALL, TWO_CALLS
    ),
    "tools.strict-schema": _effect(STRICT_REQ, content('{"age": 30}'), content("Alice is thirty.")),
    "tools.json-object": _effect(JSON_REQ, content('{"a": 1}'), content("blue")),
    "tools.round-trip.accepted": (one(chat(CHAT, ROUND_TRIP_REQ)), one(err(400))),
}

test_check_passes_on_good_input, test_check_fails_on_fault_effect = case_tests(CASES)


def test_a_refusal_that_names_the_parameter_is_an_outcome_not_a_failure() -> None:
    refused = refusal(
        400,
        {
            "error": {
                "message": "tool_choice is not supported",
                "type": "invalid_request_error",
                "param": "tool_choice",
                "code": None,
            }
        },
    )
    outcome = run("tools.choice.required", refused)
    assert outcome.passed and outcome.message == "refused with 400 naming tool_choice"
    assert run("tools.choice.required", chat(ONE_CALL, req(tool_choice="required"))).message == "honoured"
    unnamed = refusal(
        400,
        {"error": {"message": "bad request", "type": "invalid_request_error", "param": None, "code": None}},
    )
    assert not run("tools.choice.required", unnamed).passed
    assert run("tools.choice.required", chat(NO_CALL, TOOLS_REQ)).message == "not asked"


def refusal(status: int, payload: Json) -> Exchange:
    return exchange("chat", req(tool_choice="required"), payload, status=status)


def test_a_forced_call_may_end_with_stop_as_openai_does() -> None:
    forced = req(tool_choice="required")
    assert run("tools.finish-reason", chat(called(call(), finish="stop"), forced)).passed
    assert not run("tools.finish-reason", chat(called(call(), finish="stop"), TOOLS_REQ)).passed


def test_streamed_calls_accumulate_by_index() -> None:
    from compat_suite.checks.tools import accumulated_calls

    exchange = stream("chat", call_chunks(('{"ci', 'ty": "Paris"}')), request=STREAM_REQ)
    assert accumulated_calls(exchange) == {
        0: {0: {"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'}}
    }
    assert json.loads(accumulated_calls(exchange)[0][0]["arguments"]) == {"city": "Paris"}


def cut(text: str) -> Json:
    choice = {
        **CHAT["choices"][0],
        "message": {"role": "assistant", "content": text},
        "finish_reason": "length",
    }
    return with_(CHAT, choices=[choice])


@pytest.mark.parametrize(
    "check_id, request_body", [("tools.strict-schema", STRICT_REQ), ("tools.json-object", JSON_REQ)]
)
def test_an_answer_cut_at_the_token_limit_is_judged_by_how_it_began(
    check_id: str, request_body: Json
) -> None:
    """Cut JSON is documented (not judged); cut free text shows the format was ignored all the same."""
    assert run(check_id, chat(cut('{"age": 3'), request_body)).message.startswith("not judged")
    assert run(check_id, chat(cut('  \n{"age"'), request_body)).passed
    ignored = run(check_id, chat(cut("Alice is a thirty-year-old"), request_body))
    assert not ignored.passed and "silently ignored" in ignored.message
