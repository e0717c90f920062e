"""Checks of tool calling and structured output: the calls' shape, the streamed delta grammar, and
whether `tool_choice`, `parallel_tool_calls` and `response_format` had their effect.

Tool calls are the largest class of silent breakage (../shared/FIELD.md): deltas without `index`
hang clients (ollama#7881, mistral.rs#1507), `arguments` sent as an object (llama.cpp#20198,
ollama#6155, TGI#2136), empty ids (openai-dotnet#428), `finish_reason: "stop"` on a call
(sglang#2877, LocalAI#4716), `arguments: null` or partial JSON in streams (vLLM#9693, #10589),
`tool_choice` and `parallel_tool_calls` ignored (mlx-vlm#1045, sglang#9696), strict schemas not
enforced (omlx#1241). Everything here is what the protocol forces; whether a model calls a tool
under `auto` is behaviour, measured k of n by the scenarios, never a check.

A parameter-effect check has three outcomes: honoured (passes, saying so), refused with a 4xx
whose error names the parameter (passes, saying so), or silently ignored (fails).
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from ..exchange import Exchange
from . import _common as c
from ._registry import MUST, SHOULD, check
from ._tools_reading import (
    Json,
    accumulated_calls,
    argument_problem,
    as_stream,
    call_deltas,
    calls_of,
    cut_choices,
    declared_tools,
    fail_with,
    finished_json,
    forced_choice,
    function_of,
    json_chunks,
    json_start,
    non_empty,
    parameter_effect,
    streamed_finish_reasons,
    unary_calls,
)
from .request import request_accepted

ENDPOINTS = ("chat",)
CALL_MARKERS = re.compile(r"<tool_call>|<\|tool_call|\[TOOL_CALLS\]|<function=|\"arguments\"\s*:")


# -- reading requests and answers --------------------------------------------------------------------
# -- unary -----------------------------------------------------------------------------------------------
@check("tools.call.shape", severity=MUST, endpoints=ENDPOINTS)
def tools_call_shape(exchange: Exchange) -> None:
    """Each tool call is an object of `type: "function"` with a `function` naming it; content beside
    calls is null or a string."""
    problems = []
    for index, k, call in unary_calls(exchange):
        where = f"choices[{index}].message.tool_calls[{k}]"
        if not isinstance(call, dict) or call.get("type") != "function":
            got = call.get("type") if isinstance(call, dict) else call
            problems.append(f'{where}.type is {c.short(got)}, expected "function"')
        elif not isinstance(function_of(call).get("name"), str):
            problems.append(f"{where}.function.name is {c.short(function_of(call).get('name'))}")
    for i, choice in enumerate(c.choices(exchange, c.body(exchange))):
        message = choice.get("message")
        if isinstance(message, dict) and message.get("tool_calls"):
            if "content" in message and not isinstance(message["content"], str | None):
                problems.append(f"choices[{i}].message.content is {c.short(message['content'])} beside calls")
    fail_with(exchange, problems)


@check("tools.call.id", severity=MUST, endpoints=ENDPOINTS)
def tools_call_id(exchange: Exchange) -> None:
    """Each call's `id` is a non-empty string, unique in the response (clients answer by it)."""
    problems, seen = [], {}
    for index, k, call in unary_calls(exchange):
        value = call.get("id") if isinstance(call, dict) else None
        where = f"choices[{index}].message.tool_calls[{k}].id"
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where} is {c.short(value)}, expected a non-empty string")
        elif value in seen:
            problems.append(f"{where} {value!r} repeats {seen[value]}")
        else:
            seen[value] = where
    fail_with(exchange, problems)


@check("tools.call.name-declared", severity=MUST, endpoints=ENDPOINTS)
def tools_call_name_declared(exchange: Exchange) -> None:
    """Each call names one of the functions the request declared."""
    declared = declared_tools(exchange)
    problems = [
        f"choices[{index}] calls {c.short(function_of(call).get('name'))}, not one of {sorted(declared)}"
        for index, _, call in unary_calls(exchange)
        if function_of(call).get("name") not in declared
    ]
    fail_with(exchange, problems, declared=sorted(declared))


@check("tools.call.arguments-string", severity=MUST, endpoints=ENDPOINTS)
def tools_call_arguments_string(exchange: Exchange) -> None:
    """Each call's `function.arguments` is a string (JSON text), not an object or null."""
    problems = [
        f"choices[{index}].message.tool_calls[{k}].function.arguments is {c.short(function_of(call).get('arguments'))}"
        for index, k, call in unary_calls(exchange)
        if not isinstance(function_of(call).get("arguments"), str)
    ]
    fail_with(exchange, problems)


@check("tools.call.arguments-valid", severity=MUST, endpoints=ENDPOINTS)
def tools_call_arguments_valid(exchange: Exchange) -> None:
    """Each call's arguments parse as JSON and validate against the declared tool's `parameters`."""
    declared = declared_tools(exchange)
    cut = cut_choices(exchange)
    problems = []
    for index, k, call in unary_calls(exchange):
        function = function_of(call)
        if not isinstance(function.get("arguments"), str) or function.get("name") not in declared:
            continue  # tools.call.arguments-string's or tools.call.name-declared's failure
        if index in cut:
            continue  # documented: output cut at the token limit may be incomplete JSON
        problem = argument_problem(function["arguments"], declared[function["name"]])
        if problem:
            problems.append(f"choices[{index}].message.tool_calls[{k}]: {problem}")
    fail_with(exchange, problems)


@check("tools.finish-reason", severity=MUST, endpoints=ENDPOINTS)
def tools_finish_reason(exchange: Exchange) -> None:
    """A choice that returns calls finishes with "tool_calls" ("stop" is also OpenAI's own answer under
    a forced tool_choice), and one that finishes with "tool_calls" returns calls."""
    forced = forced_choice(c.request_body(exchange))
    problems = []
    for i, choice in enumerate(c.choices(exchange, c.body(exchange))):
        message = choice.get("message")
        called = isinstance(message, dict) and bool(message.get("tool_calls"))
        reason = choice.get("finish_reason")
        if called and reason != "tool_calls" and not (forced and reason == "stop"):
            problems.append(
                f"choice {c.index_of(choice, i)} returns calls but finish_reason is {c.short(reason)}"
            )
        if reason == "tool_calls" and not called:
            problems.append(f'choice {c.index_of(choice, i)} finishes with "tool_calls" but returns none')
    fail_with(exchange, problems)


@check("tools.call.not-in-content", severity=MUST, endpoints=ENDPOINTS)
def tools_call_not_in_content(exchange: Exchange) -> None:
    """A call is never written into `content` (a `<tool_call>` block or a call's JSON as text)."""
    if not declared_tools(exchange):
        return  # no tools: any text is an answer
    problems = []
    for i, choice in enumerate(c.choices(exchange, c.body(exchange))):
        message = choice.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str) and CALL_MARKERS.search(content):
            problems.append(f"choice {c.index_of(choice, i)}'s content holds a call: {c.short(content, 160)}")
    fail_with(exchange, problems)


# -- streamed ---------------------------------------------------------------------------------------------
@check("tools.stream.index", severity=MUST, endpoints=ENDPOINTS)
def tools_stream_index(exchange: Exchange) -> None:
    """Every streamed tool-call delta carries an integer `index` (clients accumulate by it)."""
    problems = [
        f"chunk {position}: choice {choice}'s tool_calls[{k}] has index {c.short(entry.get('index') if isinstance(entry, dict) else entry)}"
        for position, choice, k, entry in call_deltas(exchange)
        if not (isinstance(entry, dict) and c.is_int(entry.get("index")) and entry["index"] >= 0)
    ]
    fail_with(exchange, problems)


@check("tools.stream.first-delta", severity=MUST, endpoints=ENDPOINTS)
def tools_stream_first_delta(exchange: Exchange) -> None:
    """The first delta of each call carries its `id`, `type: "function"` and `function.name`."""
    seen: set[tuple[int, int]] = set()
    problems = []
    for position, choice, _, entry in call_deltas(exchange):
        if (
            not isinstance(entry, dict)
            or not c.is_int(entry.get("index"))
            or (choice, entry["index"]) in seen
        ):
            continue
        seen.add((choice, entry["index"]))
        missing = [
            f
            for f, ok in (
                ("id", non_empty(entry.get("id"))),
                ("type", entry.get("type") == "function"),
                ("function.name", non_empty(function_of(entry).get("name"))),
            )
            if not ok
        ]
        if missing:
            problems.append(
                f"chunk {position}: call {entry['index']}'s first delta lacks {', '.join(missing)}"
            )
    fail_with(exchange, problems)


@check("tools.stream.later-deltas", severity=MUST, endpoints=ENDPOINTS)
def tools_stream_later_deltas(exchange: Exchange) -> None:
    """Later deltas of a call keep its `index` and add argument fragments; its id and name never change."""
    first: dict[tuple[int, int], Json] = {}
    problems = []
    for position, choice, _, entry in call_deltas(exchange):
        if not isinstance(entry, dict) or not c.is_int(entry.get("index")):
            continue
        key, function = (choice, entry["index"]), function_of(entry)
        if key not in first:
            first[key] = {"id": entry.get("id"), "name": function.get("name")}
            continue
        for field, value in (("id", entry.get("id")), ("name", function.get("name"))):
            if value not in (None, "", first[key][field]):
                problems.append(
                    f"chunk {position}: call {key[1]}'s {field} changes from {first[key][field]!r} to {value!r}"
                )
    fail_with(exchange, problems)


@check("tools.stream.arguments-valid", severity=MUST, endpoints=ENDPOINTS)
def tools_stream_arguments_valid(exchange: Exchange) -> None:
    """Each call's argument fragments are strings, and joined they parse and validate against its tool
    (a choice cut at the token limit may end with incomplete JSON)."""
    declared = declared_tools(exchange)
    cut = streamed_finish_reasons(exchange)
    problems = []
    for choice, calls in accumulated_calls(exchange).items():
        for index, call in sorted(calls.items()):
            if call.get("bad_fragments"):
                problems.append(
                    f"choice {choice} call {index}: argument fragments {c.short(call['bad_fragments'])} are not strings"
                )
            elif call["name"] in declared and cut.get(choice) != "length":
                problem = argument_problem(call["arguments"], declared[call["name"]])
                if problem:
                    problems.append(f"choice {choice} call {index} ({call['name']}): {problem}")
    fail_with(exchange, problems)


@check("tools.stream.finish-reason", severity=MUST, endpoints=ENDPOINTS)
def tools_stream_finish_reason(exchange: Exchange) -> None:
    """A streamed choice that made calls finishes with "tool_calls" ("stop" under a forced tool_choice),
    on its last chunk."""
    stream = as_stream(exchange)
    forced = forced_choice(c.request_body(stream))
    called = set(accumulated_calls(stream))
    reasons: dict[int, tuple[int, Any]] = {}
    last: dict[int, int] = {}
    for position, chunk in enumerate(json_chunks(stream)):
        items = chunk.get("choices")
        for i, choice in enumerate(items if isinstance(items, list) else []):
            if isinstance(choice, dict):
                index = c.index_of(choice, i)
                last[index] = position
                if choice.get("finish_reason") is not None:
                    reasons.setdefault(index, (position, choice.get("finish_reason")))
    problems = []
    for index in sorted(called):
        position, reason = reasons.get(index, (None, None))
        if reason != "tool_calls" and not (forced and reason == "stop"):
            problems.append(f"choice {index} made calls but finishes with {c.short(reason)}")
        elif position != last[index]:
            problems.append(f"choice {index}'s finish_reason (chunk {position}) is not on its last chunk")
    fail_with(stream, problems)


@check("tools.stream.matches-unary", severity=SHOULD, endpoints=ENDPOINTS)
def tools_stream_matches_unary(stream_exchange: Exchange, unary_exchange: Exchange) -> None:
    """The calls accumulated from the stream equal the unary answer's to the same request (temperature 0)."""
    streamed = {
        choice: [(call["name"], call["arguments"]) for _, call in sorted(calls.items())]
        for choice, calls in accumulated_calls(stream_exchange).items()
    }
    unary: dict[int, list[tuple[Any, Any]]] = {}
    for index, _, call in unary_calls(unary_exchange):
        unary.setdefault(index, []).append(
            (function_of(call).get("name"), function_of(call).get("arguments"))
        )
    c.expect_stream_matches_unary(
        "the streamed calls differ from the unary answer's",
        streamed,
        unary,
        stream=stream_exchange,
        unary_exchange=unary_exchange,
    )


# -- the parameters' effect --------------------------------------------------------------------------------
@check("tools.choice.none", severity=MUST, endpoints=ENDPOINTS)
def tools_choice_none(exchange: Exchange) -> str:
    """`tool_choice: "none"` gives no call (or is refused naming it)."""

    def ignored(payload: Json) -> str | None:
        return f"{len(calls_of(payload))} call(s) made" if calls_of(payload) else None

    return parameter_effect(
        exchange, "tool_choice", c.request_body(exchange).get("tool_choice") == "none", ignored
    )


@check("tools.choice.required", severity=MUST, endpoints=ENDPOINTS)
def tools_choice_required(exchange: Exchange) -> str:
    """`tool_choice: "required"` gives at least one call (or is refused naming it)."""

    def ignored(payload: Json) -> str | None:
        return None if calls_of(payload) else "no call made"

    asked = c.request_body(exchange).get("tool_choice") == "required"
    return parameter_effect(exchange, "tool_choice", asked, ignored)


@check("tools.choice.named", severity=MUST, endpoints=ENDPOINTS)
def tools_choice_named(exchange: Exchange) -> str:
    """A named tool_choice gives exactly one call, to that function (or is refused naming it)."""
    choice = c.request_body(exchange).get("tool_choice")
    name = function_of(choice).get("name") if isinstance(choice, dict) else None

    def ignored(payload: Json) -> str | None:
        names = [function_of(call).get("name") for call in calls_of(payload)]
        return None if names == [name] else f"asked for one call to {name!r}, got {names}"

    return parameter_effect(exchange, "tool_choice", isinstance(name, str), ignored)


@check("tools.parallel.off", severity=MUST, endpoints=ENDPOINTS)
def tools_parallel_off(exchange: Exchange) -> str:
    """`parallel_tool_calls: false` gives at most one call per choice (or is refused naming it)."""

    def ignored(payload: Json) -> str | None:
        items = payload.get("choices") if isinstance(payload.get("choices"), list) else []
        counts = [len(calls_of({"choices": [choice]})) for choice in items]
        return f"calls per choice: {counts}" if any(n > 1 for n in counts) else None

    asked = c.request_body(exchange).get("parallel_tool_calls") is False
    return parameter_effect(exchange, "parallel_tool_calls", asked, ignored)


@check("tools.strict-schema", severity=MUST, endpoints=ENDPOINTS)
def tools_strict_schema(exchange: Exchange) -> str:
    """A strict `json_schema` response_format gives content valid against the schema (or is refused naming it)."""
    fmt = c.request_body(exchange).get("response_format")
    spec = fmt.get("json_schema") if isinstance(fmt, dict) and fmt.get("type") == "json_schema" else None
    schema = spec.get("schema") if isinstance(spec, dict) else None
    asked = isinstance(spec, dict) and spec.get("strict") is True

    def ignored(payload: Json) -> str | None:
        for value, text in finished_json(payload, json_start(schema or {})):
            if isinstance(value, Exception):
                return f"content {c.short(text)} is not JSON"
            errors = [e.message for e in Draft202012Validator(schema or {}).iter_errors(value)]
            if errors:
                return f"content {c.short(text)} does not match the schema: {errors[0]}"
        return None

    try:
        Draft202012Validator.check_schema(schema or {})
    except SchemaError:
        asked = False  # the request's own schema is broken: nothing fair to hold the answer to
    return parameter_effect(exchange, "response_format", asked, ignored)


@check("tools.json-object", severity=MUST, endpoints=ENDPOINTS)
def tools_json_object(exchange: Exchange) -> str:
    """`response_format: json_object` gives content that parses as a JSON object (or is refused naming it)."""

    def ignored(payload: Json) -> str | None:
        bad = [text for value, text in finished_json(payload) if not isinstance(value, dict)]
        return f"content {c.short(bad[0])} is not a JSON object" if bad else None

    fmt = c.request_body(exchange).get("response_format")
    asked = isinstance(fmt, dict) and fmt.get("type") == "json_object"
    return parameter_effect(exchange, "response_format", asked, ignored)


@check("tools.round-trip.accepted", severity=MUST, endpoints=ENDPOINTS, refines=request_accepted.id)
def tools_round_trip_accepted(exchange: Exchange) -> None:
    """A follow-up carrying the assistant's calls (content null or "") and `tool` results is answered."""
    c.expect_answered(exchange, "the tool round trip")
