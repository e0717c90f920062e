"""Reading tool calls out of requests and answers, for the tools checks: the declared tools, the calls
of a unary answer, the deltas of a stream accumulated as a client does, and the three outcomes of a
parameter's effect."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from ..exchange import Exchange, StreamExchange
from . import _common as c
from ._registry import Finding

Json = dict[str, Any]


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


def cut_choices(exchange: Exchange) -> set[int]:
    """The choices the token limit ended (finish_reason "length"): their last call may be cut short."""
    payload = exchange.json if isinstance(exchange.json, dict) else {}
    items = payload.get("choices") if isinstance(payload.get("choices"), list) else []
    return {
        c.index_of(ch, i)
        for i, ch in enumerate(items)
        if isinstance(ch, dict) and ch.get("finish_reason") == "length"
    }


def function_of(call: Any) -> Json:
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


def fail_with(exchange: Exchange, problems: list[str], **evidence: Any) -> None:
    if problems:
        raise Finding(
            f"{len(problems)} problem(s); first: {problems[0]}",
            c.evidence(exchange, problems=problems[:10], **evidence),
        )


def as_stream(exchange: Exchange) -> StreamExchange:
    if not isinstance(exchange, StreamExchange):
        raise Finding("not a streamed exchange (no events were read)", c.evidence(exchange))
    return exchange


def call_deltas(exchange: Exchange) -> list[tuple[int, int, int, Any]]:
    """(chunk position, choice index, position in the delta, entry) for every `delta.tool_calls` entry."""
    out = []
    for position, chunk in enumerate(json_chunks(exchange)):
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
        function = function_of(entry)
        call["name"] = call["name"] or function.get("name")
        fragment = function.get("arguments")
        if isinstance(fragment, str):
            call["arguments"] += fragment
        elif "arguments" in function:
            call["arguments"] = None if call["arguments"] == "" else call["arguments"]
            call.setdefault("bad_fragments", []).append(fragment)
    return calls


def streamed_finish_reasons(exchange: Exchange) -> dict[int, Any]:
    """choice -> its first non-null finish_reason in the stream."""
    reasons: dict[int, Any] = {}
    for chunk in json_chunks(exchange):
        items = chunk.get("choices")
        for i, choice in enumerate(items if isinstance(items, list) else []):
            if isinstance(choice, dict) and choice.get("finish_reason") is not None:
                reasons.setdefault(c.index_of(choice, i), choice["finish_reason"])
    return reasons


def non_empty(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def parameter_effect(
    exchange: Exchange, param: str, asked: bool, ignored: Callable[[Json], str | None]
) -> str:
    """The outcome: "honoured", or "refused with <status> naming <param>"; a Finding when the answer
    shows the parameter was silently ignored (`ignored(body)` says how) or refused without naming it.
    Passes when the request did not ask (`asked`) or the token limit cut every choice (nothing to judge)."""
    if not asked:
        return "not asked"
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
    payload = c.body(exchange)
    problem = ignored(payload)
    if problem:
        raise Finding(f"{param} silently ignored: {problem}", c.evidence(exchange))
    items = payload.get("choices") if isinstance(payload.get("choices"), list) else []
    if items and len(cut_choices(exchange)) == len(items):
        return "not judged: every choice was cut at the token limit"
    return "honoured"


def calls_of(payload: Json) -> list[Json]:
    items = payload.get("choices")
    out = []
    for choice in items if isinstance(items, list) else []:
        message = choice.get("message") if isinstance(choice, dict) else None
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        out += [call for call in calls if isinstance(call, dict)] if isinstance(calls, list) else []
    return out


def json_start(schema: Json) -> str:
    """What a JSON text valid against `schema` can begin with (by its root `type`, where it says)."""
    return {"object": "{", "array": "["}.get(str(schema.get("type")), '{["-0123456789tfn')


def began_as_json(text: Any, opens: str) -> bool:
    """Text cut at the token limit that may still be the start of JSON: empty, or its first non-space
    character one of `opens` (see `json_start`)."""
    return isinstance(text, str) and (not text.strip() or text.lstrip()[0] in opens)


def finished_json(payload: Json, opens: str = "{") -> list[tuple[Any, str]]:
    """(parsed content or the parse error, the content) of each choice that finished by itself with an
    answer (a choice that called a tool instead has its calls judged by the other tools checks). A
    choice cut at the token limit may hold incomplete JSON, as documented, but not text that never
    began as JSON: content whose first character is not `opens` is an error too."""
    out: list[tuple[Any, str]] = []
    items = payload.get("choices")
    for choice in items if isinstance(items, list) else []:
        if not isinstance(choice, dict):
            continue
        message = choice.get("message")
        if isinstance(message, dict) and message.get("tool_calls"):
            continue
        text = message.get("content") if isinstance(message, dict) else None
        if choice.get("finish_reason") == "length":
            if not began_as_json(text, opens):
                out.append((ValueError(f"cut at the token limit, and it never began with {opens}"), text))
            continue
        try:
            out.append((json.loads(text) if isinstance(text, str) else ValueError("no content"), text))
        except (ValueError, RecursionError) as exc:
            out.append((exc, text))
    return out


def json_chunks(exchange: Exchange) -> list[Json]:
    """The stream's JSON chunks; [] where it has none (the framing checks own that failure: a stream
    with no chunks has no tool-call deltas to judge)."""
    stream = as_stream(exchange)
    return [ch for ch in stream.chunks if isinstance(ch, dict) and not c.is_error_chunk(ch)]
