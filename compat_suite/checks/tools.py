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

import json
import re
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from ..exchange import Exchange, StreamExchange
from . import _common as c
from ._registry import MUST, SHOULD, Finding, check

ENDPOINTS = ("chat",)
CALL_MARKERS = re.compile(r"<tool_call>|<\|tool_call|\[TOOL_CALLS\]|<function=|\"arguments\"\s*:")
Json = dict[str, Any]


# -- reading requests and answers --------------------------------------------------------------------
def declared_tools(exchange: Exchange) -> dict[str, Any]:
    """The request's function tools: name -> its `parameters` schema (None where it sent none)."""
    out: dict[str, Any] = {}
    for tool in c.request_body(exchange).get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            out[function["name"]] = function.get("parameters")
    return out


def forced_choice(request: Json) -> bool:
    """tool_choice `required` or a named function: OpenAI may then end with "stop" (FIELD.md)."""
    choice = request.get("tool_choice")
    return choice == "required" or isinstance(choice, dict)


def unary_calls(exchange: Exchange) -> list[tuple[int, int, Any]]:
    """(choice index, position, call) for every entry of every choice's `message.tool_calls`."""
    out = []
    for i, choice in enumerate(c.choices(exchange, c.body(exchange))):
        message = choice.get("message")
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        for k, call in enumerate(calls if isinstance(calls, list) else []):
            out.append((c.index_of(choice, i), k, call))
    return out


def _function(call: Any) -> Json:
    function = call.get("function") if isinstance(call, dict) else None
    return function if isinstance(function, dict) else {}


def argument_problem(arguments: Any, schema: Any) -> str | None:
    """Why `arguments` is not JSON text valid against `schema` (None when it is)."""
    if not isinstance(arguments, str):
        return f"arguments is {c.short(arguments)}, not a string of JSON"
    try:
        value = json.loads(arguments)
    except (ValueError, RecursionError) as exc:
        return f"arguments {c.short(arguments)} do not parse as JSON ({exc})"
    if not isinstance(schema, dict):
        return None
    try:
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(value)]
    except SchemaError:
        return None  # the request's own schema is broken: nothing fair to hold the call to
    return (
        f"arguments {c.short(arguments)} do not match the tool's parameters: {errors[0]}" if errors else None
    )


def _fail(exchange: Exchange, problems: list[str], **evidence: Any) -> None:
    if problems:
        raise Finding(
            f"{len(problems)} problem(s); first: {problems[0]}",
            c.evidence(exchange, problems=problems[:10], **evidence),
        )


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
        elif not isinstance(_function(call).get("name"), str):
            problems.append(f"{where}.function.name is {c.short(_function(call).get('name'))}")
    for i, choice in enumerate(c.choices(exchange, c.body(exchange))):
        message = choice.get("message")
        if isinstance(message, dict) and message.get("tool_calls"):
            if "content" in message and not isinstance(message["content"], str | None):
                problems.append(f"choices[{i}].message.content is {c.short(message['content'])} beside calls")
    _fail(exchange, problems)


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
    _fail(exchange, problems)


@check("tools.call.name-declared", severity=MUST, endpoints=ENDPOINTS)
def tools_call_name_declared(exchange: Exchange) -> None:
    """Each call names one of the functions the request declared."""
    declared = declared_tools(exchange)
    problems = [
        f"choices[{index}] calls {c.short(_function(call).get('name'))}, not one of {sorted(declared)}"
        for index, _, call in unary_calls(exchange)
        if _function(call).get("name") not in declared
    ]
    _fail(exchange, problems, declared=sorted(declared))


@check("tools.call.arguments-string", severity=MUST, endpoints=ENDPOINTS)
def tools_call_arguments_string(exchange: Exchange) -> None:
    """Each call's `function.arguments` is a string (JSON text), not an object or null."""
    problems = [
        f"choices[{index}].message.tool_calls[{k}].function.arguments is {c.short(_function(call).get('arguments'))}"
        for index, k, call in unary_calls(exchange)
        if not isinstance(_function(call).get("arguments"), str)
    ]
    _fail(exchange, problems)


@check("tools.call.arguments-valid", severity=MUST, endpoints=ENDPOINTS)
def tools_call_arguments_valid(exchange: Exchange) -> None:
    """Each call's arguments parse as JSON and validate against the declared tool's `parameters`."""
    declared = declared_tools(exchange)
    problems = []
    for index, k, call in unary_calls(exchange):
        function = _function(call)
        if not isinstance(function.get("arguments"), str) or function.get("name") not in declared:
            continue  # tools.call.arguments-string's or tools.call.name-declared's failure
        problem = argument_problem(function["arguments"], declared[function["name"]])
        if problem:
            problems.append(f"choices[{index}].message.tool_calls[{k}]: {problem}")
    _fail(exchange, problems)


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
    _fail(exchange, problems)


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
    _fail(exchange, problems)


# -- streamed ---------------------------------------------------------------------------------------------
def _stream(exchange: Exchange) -> StreamExchange:
    if not isinstance(exchange, StreamExchange):
        raise Finding("not a streamed exchange (no events were read)", c.evidence(exchange))
    return exchange


def call_deltas(exchange: Exchange) -> list[tuple[int, int, int, Any]]:
    """(chunk position, choice index, position in the delta, entry) for every `delta.tool_calls` entry."""
    out = []
    for position, chunk in enumerate(c.stream_chunks(_stream(exchange))):
        items = chunk.get("choices")
        for i, choice in enumerate(items if isinstance(items, list) else []):
            delta = choice.get("delta") if isinstance(choice, dict) else None
            entries = delta.get("tool_calls") if isinstance(delta, dict) else None
            for k, entry in enumerate(entries if isinstance(entries, list) else []):
                out.append((position, c.index_of(choice, i), k, entry))
    return out


def accumulated_calls(exchange: Exchange) -> dict[int, dict[int, Json]]:
    """choice -> call index -> {id, name, arguments}: the calls as a client accumulates them by `index`
    (string fragments joined; entries without an integer index are skipped)."""
    calls: dict[int, dict[int, Json]] = {}
    for _, choice, _, entry in call_deltas(exchange):
        if not isinstance(entry, dict) or not c.is_int(entry.get("index")):
            continue
        call = calls.setdefault(choice, {}).setdefault(
            entry["index"], {"id": None, "name": None, "arguments": ""}
        )
        call["id"] = call["id"] or entry.get("id")
        function = _function(entry)
        call["name"] = call["name"] or function.get("name")
        fragment = function.get("arguments")
        if isinstance(fragment, str):
            call["arguments"] += fragment
        elif "arguments" in function:
            call["arguments"] = None if call["arguments"] == "" else call["arguments"]
            call.setdefault("bad_fragments", []).append(fragment)
    return calls


@check("tools.stream.index", severity=MUST, endpoints=ENDPOINTS)
def tools_stream_index(exchange: Exchange) -> None:
    """Every streamed tool-call delta carries an integer `index` (clients accumulate by it)."""
    problems = [
        f"chunk {position}: choice {choice}'s tool_calls[{k}] has index {c.short(entry.get('index') if isinstance(entry, dict) else entry)}"
        for position, choice, k, entry in call_deltas(exchange)
        if not (isinstance(entry, dict) and c.is_int(entry.get("index")) and entry["index"] >= 0)
    ]
    _fail(exchange, problems)


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
                ("id", _non_empty(entry.get("id"))),
                ("type", entry.get("type") == "function"),
                ("function.name", _non_empty(_function(entry).get("name"))),
            )
            if not ok
        ]
        if missing:
            problems.append(
                f"chunk {position}: call {entry['index']}'s first delta lacks {', '.join(missing)}"
            )
    _fail(exchange, problems)


def _non_empty(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


@check("tools.stream.later-deltas", severity=MUST, endpoints=ENDPOINTS)
def tools_stream_later_deltas(exchange: Exchange) -> None:
    """Later deltas of a call keep its `index` and add argument fragments; its id and name never change."""
    first: dict[tuple[int, int], Json] = {}
    problems = []
    for position, choice, _, entry in call_deltas(exchange):
        if not isinstance(entry, dict) or not c.is_int(entry.get("index")):
            continue
        key, function = (choice, entry["index"]), _function(entry)
        if key not in first:
            first[key] = {"id": entry.get("id"), "name": function.get("name")}
            continue
        for field, value in (("id", entry.get("id")), ("name", function.get("name"))):
            if value not in (None, "", first[key][field]):
                problems.append(
                    f"chunk {position}: call {key[1]}'s {field} changes from {first[key][field]!r} to {value!r}"
                )
    _fail(exchange, problems)


@check("tools.stream.arguments-valid", severity=MUST, endpoints=ENDPOINTS)
def tools_stream_arguments_valid(exchange: Exchange) -> None:
    """Each call's argument fragments are strings, and joined they parse and validate against its tool."""
    declared = declared_tools(exchange)
    problems = []
    for choice, calls in accumulated_calls(exchange).items():
        for index, call in sorted(calls.items()):
            if call.get("bad_fragments"):
                problems.append(
                    f"choice {choice} call {index}: argument fragments {c.short(call['bad_fragments'])} are not strings"
                )
            elif call["name"] in declared:
                problem = argument_problem(call["arguments"], declared[call["name"]])
                if problem:
                    problems.append(f"choice {choice} call {index} ({call['name']}): {problem}")
    _fail(exchange, problems)


@check("tools.stream.finish-reason", severity=MUST, endpoints=ENDPOINTS)
def tools_stream_finish_reason(exchange: Exchange) -> None:
    """A streamed choice that made calls finishes with "tool_calls" ("stop" under a forced tool_choice),
    on its last chunk."""
    stream = _stream(exchange)
    forced = forced_choice(c.request_body(stream))
    called = set(accumulated_calls(stream))
    reasons: dict[int, tuple[int, Any]] = {}
    last: dict[int, int] = {}
    for position, chunk in enumerate(c.stream_chunks(stream)):
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
    _fail(stream, problems)


@check("tools.stream.matches-unary", severity=SHOULD, endpoints=ENDPOINTS)
def tools_stream_matches_unary(stream_exchange: Exchange, unary_exchange: Exchange) -> None:
    """The calls accumulated from the stream equal the unary answer's to the same request (temperature 0)."""
    streamed = {
        choice: [(call["name"], call["arguments"]) for _, call in sorted(calls.items())]
        for choice, calls in accumulated_calls(stream_exchange).items()
    }
    unary: dict[int, list[tuple[Any, Any]]] = {}
    for index, _, call in unary_calls(unary_exchange):
        unary.setdefault(index, []).append((_function(call).get("name"), _function(call).get("arguments")))
    if streamed != unary:
        raise Finding(
            "the streamed calls differ from the unary answer's",
            {
                "streamed": streamed,
                "unary": unary,
                "stream": c.evidence(stream_exchange),
                "unary_exchange": c.evidence(unary_exchange),
            },
        )


# -- the parameters' effect --------------------------------------------------------------------------------
def parameter_effect(exchange: Exchange, param: str, ignored: Callable[[Json], str | None]) -> str:
    """ "honoured" or "refused with <status> naming <param>"; a Finding when the answer shows the
    parameter was silently ignored (`ignored(body)` says how) or refused without naming it."""
    status = exchange.status or 0
    if 400 <= status < 500:
        error = c.body(exchange).get("error")
        error = error if isinstance(error, dict) else {}
        named = str(error.get("param") or "")
        if named.split(".")[0].split("[")[0] == param.split(".")[0] or param in str(
            error.get("message") or ""
        ):
            return f"refused with {status} naming {named or param}"
        raise Finding(
            f"{param} was refused with {status}, but the error does not name it",
            c.evidence(exchange, error=error),
        )
    problem = ignored(c.body(exchange))
    if problem:
        raise Finding(f"{param} silently ignored: {problem}", c.evidence(exchange))
    return "honoured"


def _calls_of(payload: Json) -> list[Json]:
    items = payload.get("choices")
    out = []
    for choice in items if isinstance(items, list) else []:
        message = choice.get("message") if isinstance(choice, dict) else None
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        out += [call for call in calls if isinstance(call, dict)] if isinstance(calls, list) else []
    return out


@check("tools.choice.none", severity=MUST, endpoints=ENDPOINTS)
def tools_choice_none(exchange: Exchange) -> str:
    """`tool_choice: "none"` gives no call (or is refused naming it)."""
    return parameter_effect(
        exchange, "tool_choice", lambda p: f"{len(_calls_of(p))} call(s) made" if _calls_of(p) else None
    )


@check("tools.choice.required", severity=MUST, endpoints=ENDPOINTS)
def tools_choice_required(exchange: Exchange) -> str:
    """`tool_choice: "required"` gives at least one call (or is refused naming it)."""
    return parameter_effect(exchange, "tool_choice", lambda p: None if _calls_of(p) else "no call made")


@check("tools.choice.named", severity=MUST, endpoints=ENDPOINTS)
def tools_choice_named(exchange: Exchange) -> str:
    """A named tool_choice gives exactly one call, to that function (or is refused naming it)."""
    choice = c.request_body(exchange).get("tool_choice")
    name = _function(choice).get("name") if isinstance(choice, dict) else None

    def ignored(payload: Json) -> str | None:
        names = [_function(call).get("name") for call in _calls_of(payload)]
        return None if names == [name] else f"asked for one call to {name!r}, got {names}"

    return parameter_effect(exchange, "tool_choice", ignored)


@check("tools.parallel.off", severity=MUST, endpoints=ENDPOINTS)
def tools_parallel_off(exchange: Exchange) -> str:
    """`parallel_tool_calls: false` gives at most one call per choice (or is refused naming it)."""

    def ignored(payload: Json) -> str | None:
        items = payload.get("choices") if isinstance(payload.get("choices"), list) else []
        counts = [len(_calls_of({"choices": [choice]})) for choice in items]
        return f"calls per choice: {counts}" if any(n > 1 for n in counts) else None

    return parameter_effect(exchange, "parallel_tool_calls", ignored)


def _finished_json(payload: Json) -> list[tuple[Any, str]]:
    """(parsed content or the parse error, the content) of each choice that finished by itself."""
    out = []
    items = payload.get("choices")
    for choice in items if isinstance(items, list) else []:
        if not isinstance(choice, dict) or choice.get("finish_reason") == "length":
            continue  # cut at the token limit: incomplete JSON is documented
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else None
        try:
            out.append((json.loads(text) if isinstance(text, str) else ValueError("no content"), text))
        except (ValueError, RecursionError) as exc:
            out.append((exc, text))
    return out


@check("tools.strict-schema", severity=MUST, endpoints=ENDPOINTS)
def tools_strict_schema(exchange: Exchange) -> str:
    """A strict `json_schema` response_format gives content valid against the schema (or is refused naming it)."""
    fmt = c.request_body(exchange).get("response_format")
    spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
    schema = spec.get("schema") if isinstance(spec, dict) else None

    def ignored(payload: Json) -> str | None:
        for value, text in _finished_json(payload):
            if isinstance(value, Exception):
                return f"content {c.short(text)} is not JSON"
            errors = [e.message for e in Draft202012Validator(schema or {}).iter_errors(value)]
            if errors:
                return f"content {c.short(text)} does not match the schema: {errors[0]}"
        return None

    return parameter_effect(exchange, "response_format", ignored)


@check("tools.json-object", severity=MUST, endpoints=ENDPOINTS)
def tools_json_object(exchange: Exchange) -> str:
    """`response_format: json_object` gives content that parses as a JSON object (or is refused naming it)."""

    def ignored(payload: Json) -> str | None:
        bad = [text for value, text in _finished_json(payload) if not isinstance(value, dict)]
        return f"content {c.short(bad[0])} is not a JSON object" if bad else None

    return parameter_effect(exchange, "response_format", ignored)


@check("tools.round-trip.accepted", severity=MUST, endpoints=ENDPOINTS)
def tools_round_trip_accepted(exchange: Exchange) -> None:
    """A follow-up carrying the assistant's calls (content null or "") and `tool` results is answered."""
    status = exchange.status or 0
    if not 200 <= status < 300:
        error = exchange.json.get("error") if isinstance(exchange.json, dict) else None
        raise Finding(
            f"the tool round trip was refused with status {status}", c.evidence(exchange, error=error)
        )
    c.body(exchange)
