"""Tool calling and structured output on the reference server (scripted engine): the request rules,
the deterministic schema values, the call parser, the streamed delta grammar, and openai-python's
helpers (`parse`, `pydantic_function_tool`, `stream()`) over a real socket."""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING

import httpx
import jsonschema
import pytest
from _sdk_tools import parse_function_tool, parse_response_format, tool_round_trip
from hypothesis import given, settings
from hypothesis import strategies as st
from openai import OpenAI

import schemas
from reference_server.engines._schema_values import value_for
from reference_server.tools import ArgumentsOut, CallParser, CallStart, TextOut, parse_output

if TYPE_CHECKING:
    from conftest import RunningServer

CHAT = "scripted-chat"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The forecast of a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7}},
                "place": {
                    "type": "object",
                    "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90}},
                    "required": ["lat"],
                },
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}
ASK_BOTH = [{"role": "user", "content": "Call get_weather and get_time for Paris."}]


@pytest.fixture(scope="module")
def client(scripted_server: RunningServer) -> OpenAI:
    return OpenAI(
        base_url=scripted_server.base_url, api_key=scripted_server.api_key, max_retries=0, timeout=30
    )


def _post(server: RunningServer, body: dict, *, stream: bool = False) -> httpx.Response:
    body = {"model": CHAT, "max_tokens": 200, **body, **({"stream": True} if stream else {})}
    return httpx.post(
        f"{server.base_url}/chat/completions", json=body, headers=server.auth_headers, timeout=30
    )


def _chunks(response: httpx.Response) -> list[dict]:
    lines = [line[6:] for line in response.text.split("\n") if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


# -- what the engine writes --------------------------------------------------------------------------
SCHEMAS = [
    WEATHER["function"]["parameters"],
    {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 2}},
    },
    {
        "$defs": {"n": {"type": "integer", "exclusiveMinimum": 3}},
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/n"}},
        "required": ["x"],
    },
    {
        "type": "object",
        "properties": {"v": {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 30}]}},
    },
    {
        "type": "object",
        "properties": {"b": {"type": "boolean"}, "c": {"const": 7}, "t": {"type": ["string", "null"]}},
    },
]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(SCHEMAS), st.integers(0, 10**6))
def test_schema_values_validate(schema: dict, seed: int) -> None:
    jsonschema.validate(value_for(schema, random.Random(seed)), schema)


# -- the parser ---------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.data())
def test_streamed_parse_equals_the_whole_parse(data: st.DataObject) -> None:
    text = data.draw(
        st.sampled_from(
            [
                '<tool_call>[{"name": "a", "arguments": {"x": [1, {"y": "}]"}]}}, {"name": "b", "arguments": {}}]</tool_call>',
                'Let me see. <tool_call>{"arguments": {"q": "\\"<"}, "name": "s"}</tool_call>',
                "No call here, only <b>text</b>.",
                "<tool_call>[not json",
            ]
        )
    )
    content, calls = parse_output(text, tools=True)
    parser, events, at = CallParser(tools=True), [], 0
    while at < len(text):
        size = data.draw(st.integers(1, 6))
        events += parser.feed(text[at : at + size])
        at += size
    events += parser.finish()
    assert "".join(e.text for e in events if isinstance(e, TextOut)) == content
    starts = [e for e in events if isinstance(e, CallStart)]
    assert [(s.index, s.name) for s in starts] == [(i, c.name) for i, c in enumerate(calls)]
    for i, call in enumerate(calls):
        assert (
            "".join(e.fragment for e in events if isinstance(e, ArgumentsOut) and e.index == i)
            == call.arguments
        )
        json.loads(call.arguments)


def test_without_tools_everything_is_content() -> None:
    assert parse_output('<tool_call>[{"name": "a", "arguments": {}}]</tool_call>', tools=False)[1] == []


# -- the request ----------------------------------------------------------------------------------------
def test_tool_choice_none_auto_required_named_and_parallel(scripted_server: RunningServer) -> None:
    def calls(**params: object) -> list[dict]:
        answer = _post(scripted_server, {"messages": ASK_BOTH, "tools": [WEATHER, TIME], **params}).json()
        assert schemas.errors("CreateChatCompletionResponse", answer) == [], answer
        message, finish = answer["choices"][0]["message"], answer["choices"][0]["finish_reason"]
        listed = message.get("tool_calls") or []
        assert finish == ("tool_calls" if listed else "stop")
        assert (message["content"] is None) == bool(listed)
        return listed

    both = calls()
    assert [c["function"]["name"] for c in both] == ["get_weather", "get_time"]
    assert len({c["id"] for c in both}) == 2
    for call in both:
        arguments = json.loads(call["function"]["arguments"])
        jsonschema.validate(
            arguments,
            {"get_weather": WEATHER, "get_time": TIME}[call["function"]["name"]]["function"]["parameters"],
        )
    assert calls(tool_choice="none") == []
    assert len(calls(parallel_tool_calls=False)) == 1
    named = calls(tool_choice={"type": "function", "function": {"name": "get_time"}})
    assert [c["function"]["name"] for c in named] == ["get_time"]
    unmentioned = [{"role": "user", "content": "Hello there."}]
    assert (
        _post(scripted_server, {"messages": unmentioned, "tools": [WEATHER]})
        .json()["choices"][0]["message"]
        .get("tool_calls")
        is None
    )
    forced = _post(
        scripted_server, {"messages": unmentioned, "tools": [WEATHER, TIME], "tool_choice": "required"}
    )
    assert [c["function"]["name"] for c in forced.json()["choices"][0]["message"]["tool_calls"]] == [
        "get_weather"
    ]


def test_streamed_calls_follow_the_delta_grammar_and_match_unary(scripted_server: RunningServer) -> None:
    body = {"messages": ASK_BOTH, "tools": [WEATHER, TIME], "temperature": 0, "seed": 3}
    unary = _post(scripted_server, body).json()["choices"][0]
    chunks = _chunks(_post(scripted_server, body, stream=True))
    calls: dict[int, dict] = {}
    finishes = []
    for chunk in chunks:
        assert schemas.errors("CreateChatCompletionStreamResponse", chunk) == [], chunk
        for choice in chunk["choices"]:
            finishes.append(choice["finish_reason"])
            for delta in choice["delta"].get("tool_calls", []):
                if delta["index"] not in calls:  # a call's first delta names it
                    assert delta["id"] and delta["type"] == "function" and delta["function"]["name"]
                    calls[delta["index"]] = {
                        "id": delta["id"],
                        "name": delta["function"]["name"],
                        "arguments": "",
                    }
                else:  # later ones: the index and argument fragments only
                    assert set(delta) == {"index", "function"} and set(delta["function"]) == {"arguments"}
                calls[delta["index"]]["arguments"] += delta["function"].get("arguments", "")
    assert [f for f in finishes if f] == ["tool_calls"] and finishes[-1] == "tool_calls"
    assert [(c["name"], c["arguments"]) for c in calls.values()] == [
        (c["function"]["name"], c["function"]["arguments"]) for c in unary["message"]["tool_calls"]
    ]


def test_json_schema_output_validates_streamed_and_not(scripted_server: RunningServer) -> None:
    schema = WEATHER["function"]["parameters"]
    fmt = {"type": "json_schema", "json_schema": {"name": "weather", "schema": schema, "strict": True}}
    body = {"messages": [{"role": "developer", "content": "JSON only."}, *ASK_BOTH], "response_format": fmt}
    text = _post(scripted_server, body).json()["choices"][0]["message"]["content"]
    jsonschema.validate(json.loads(text), schema)
    streamed = "".join(
        c["choices"][0]["delta"].get("content") or ""
        for c in _chunks(_post(scripted_server, body, stream=True))
        if c["choices"]
    )
    jsonschema.validate(json.loads(streamed), schema)


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"tools": [{"type": "custom", "custom": {"name": "grammar"}}]}, "tools[0].type"),
        ({"tools": [WEATHER, WEATHER]}, "tools[1].function.name"),
        (
            {
                "tools": [WEATHER],
                "tool_choice": {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}},
            },
            "tool_choice",
        ),
    ],
)
def test_what_is_not_run_is_refused_by_name(scripted_server: RunningServer, extra: dict, param: str) -> None:
    response = _post(scripted_server, {"messages": ASK_BOTH, **extra})
    assert response.status_code == 400 and response.json()["error"]["param"] == param, response.text


# -- the official SDK's helpers ------------------------------------------------------------------------
def test_sdk_parse_with_a_pydantic_response_format(client: OpenAI) -> None:
    parse_response_format(client, CHAT)


def test_sdk_parse_with_pydantic_function_tool(client: OpenAI) -> None:
    parse_function_tool(client, CHAT)


def test_sdk_round_trip_answer_uses_the_result(client: OpenAI) -> None:
    assert "Sunny, 24 degrees." in tool_round_trip(client, CHAT)
