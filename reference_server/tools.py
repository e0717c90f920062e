"""Tool calling and structured output, endpoint-neutral: what a request asks of the output, how
calls are written in the model's text, and how that text becomes calls, streamed or not.

The parts are reused by every endpoint that generates (chat completions today, the Responses API
next): `structure_of` turns the request's `tools`, `tool_choice`, `parallel_tool_calls` and
`response_format` into an engine `Structure`; `CallParser` (`_tool_calls.py`) reads generated text
piece by piece and hands back `OutputEvent`s (text, a call's start with its id and name, a fragment
of its arguments) that an endpoint shapes into its own deltas; `argument_problems` says whether a
call's arguments validate against its tool.

The tool-call format is SmolLM2's (its instruct data, the model card's function-calling prompt):
`<tool_call>[{"name": ..., "arguments": {...}}, ...]</tool_call>`. Both engines write it; the
transformers engine's grammar forces it under `required` and a named tool_choice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from ._tool_calls import (
    CALL_CLOSE,
    CALL_OPEN,
    ArgumentsOut,
    CallParser,
    CallStart,
    OutputEvent,
    TextOut,
    new_call_id,
    parse_output,
)
from .engines.base import Structure, ToolCall, ToolSpec
from .errors import APIError

Json = dict[str, Any]
MAX_TOOLS = 128  # OpenAI's documented maximum
# Tools OpenAI's API knows that this server does not run: refused with a 400 naming them.
UNSUPPORTED_TOOL_TYPES = ("custom", "web_search", "file_search", "code_interpreter", "computer_use_preview")

__all__ = [
    "CALL_CLOSE",
    "CALL_OPEN",
    "MAX_TOOLS",
    "UNSUPPORTED_TOOL_TYPES",
    "ArgumentsOut",
    "CallParser",
    "CallStart",
    "OutputEvent",
    "TextOut",
    "ToolCall",
    "argument_problems",
    "by_name",
    "check_round_trip",
    "describe_tools",
    "message_tool_calls",
    "new_call_id",
    "parse_output",
    "render_calls",
    "render_request_calls",
    "structure_of",
]


# -- the request -------------------------------------------------------------------------------------
def structure_of(body: Json) -> tuple[Structure | None, tuple[ToolSpec, ...]]:
    """(what the output must be, the tools to show the model) for a request body already valid
    against its schema; 400 naming the parameter for what the schema cannot say."""
    tools = _tools(body.get("tools"))
    choice = body.get("tool_choice")
    parallel = body.get("parallel_tool_calls")
    if choice is not None and not tools:
        raise _invalid("tool_choice", "tool_choice is only allowed when tools are specified")
    if parallel is not None and not tools:
        raise _invalid("parallel_tool_calls", "parallel_tool_calls is only allowed when tools are specified")
    response = _response_format(body.get("response_format"))
    if not tools:
        return response, ()
    mode, callable_tools = _tool_choice(choice, tools)
    if mode == "none":  # the tools are shown, so the model must be kept from writing a call
        return response or Structure("tools", mode="none"), tools
    # An answer in text instead of a call keeps to the response_format (a forced call writes none).
    schema = (
        None
        if response is None
        else (response.schema if response.kind == "json_schema" else {"type": "object"})
    )
    return Structure(
        "tools", schema=schema, tools=callable_tools, mode=mode, parallel=parallel is not False
    ), tools


def _tools(value: Any) -> tuple[ToolSpec, ...]:
    if value is None or value == []:
        return ()
    if len(value) > MAX_TOOLS:
        raise _invalid("tools", f"tools takes at most {MAX_TOOLS} entries")
    out: list[ToolSpec] = []
    for i, tool in enumerate(value):
        kind = tool.get("type")
        if kind != "function":
            raise APIError(
                400,
                f"tools[{i}].type {kind!r} is not supported: this server runs function tools only",
                param=f"tools[{i}].type",
                code="unsupported_parameter",
            )
        function = tool["function"]
        name = function["name"]
        if any(t.name == name for t in out):
            raise _invalid(f"tools[{i}].function.name", f"two tools are named {name!r}")
        parameters = function.get("parameters")
        if parameters is None:
            parameters = {"type": "object", "properties": {}}
        _check_schema(parameters, f"tools[{i}].function.parameters")
        if parameters.get("type", "object") != "object":
            raise _invalid(
                f"tools[{i}].function.parameters", "a function's parameters must be an object schema"
            )
        out.append(ToolSpec(name, parameters, function.get("description") or ""))
    return tuple(out)


def _tool_choice(choice: Any, tools: tuple[ToolSpec, ...]) -> tuple[str, tuple[ToolSpec, ...]]:
    """("none" | "auto" | "required", the tools that may be called)."""
    if choice is None:
        return "auto", tools
    if isinstance(choice, str):
        return choice, tools
    if choice.get("type") == "function":
        name = choice["function"]["name"]
        named = [t for t in tools if t.name == name]
        if not named:
            raise _invalid("tool_choice", f"tool_choice names {name!r}, which is not one of the tools")
        return "required", tuple(named)
    raise APIError(
        400,
        f"tool_choice type {choice.get('type')!r} is not supported (none, auto, required or a function)",
        param="tool_choice",
        code="unsupported_parameter",
    )


def _response_format(value: Any) -> Structure | None:
    kind = value.get("type") if isinstance(value, dict) else None
    if kind in (None, "text"):
        return None
    if kind == "json_object":
        return Structure("json_object")
    spec = value["json_schema"]
    schema = spec.get("schema")
    if schema is None:
        schema = {}
    _check_schema(schema, "response_format.json_schema.schema")
    return Structure("json_schema", schema=schema)


def _check_schema(schema: Any, param: str) -> None:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise _invalid(param, f"{param} is not a valid JSON Schema: {exc.message[:200]}") from None


def _invalid(param: str, message: str) -> APIError:
    return APIError(400, message, param=param, code="invalid_value")


def message_tool_calls(message: Json, where: str) -> tuple[ToolCall, ...]:
    """The `tool_calls` of an assistant message in a request, as calls."""
    calls = []
    for j, call in enumerate(message.get("tool_calls") or []):
        function = call.get("function") or {}
        arguments = function.get("arguments")
        try:
            json.loads(arguments)
        except (TypeError, ValueError):
            raise _invalid(
                f"{where}.tool_calls[{j}].function.arguments", "a tool call's arguments must be JSON text"
            ) from None
        calls.append(ToolCall(call["id"], function["name"], arguments))
    return tuple(calls)


def check_round_trip(messages: Sequence[Any]) -> None:
    """Every tool message answers a call an earlier assistant message made (OpenAI's rule)."""
    open_calls: set[str] = set()
    for i, message in enumerate(messages):
        if message.role == "assistant":
            open_calls |= {call.id for call in message.tool_calls}
        elif message.role == "tool" and message.tool_call_id not in open_calls:
            raise _invalid(
                f"messages[{i}].tool_call_id",
                f"messages[{i}] answers tool call {message.tool_call_id!r}, which no assistant message made",
            )


# -- the model's text --------------------------------------------------------------------------------
def render_calls(calls: Iterable[tuple[str, Any]]) -> str:
    """(name, arguments value) calls in the model's tool-call format."""
    listed = [{"name": name, "arguments": arguments} for name, arguments in calls]
    return CALL_OPEN + json.dumps(listed, ensure_ascii=False) + CALL_CLOSE


def render_request_calls(calls: Sequence[ToolCall]) -> str:
    """An assistant message's earlier calls, written back in the model's format."""
    return render_calls((c.name, _loads_or_text(c.arguments)) for c in calls)


def _loads_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def describe_tools(tools: Sequence[ToolSpec]) -> str:
    """The system prompt SmolLM2's function-calling data was written with (the model card's)."""
    listed = json.dumps(
        [{"name": t.name, "description": t.description, "parameters": dict(t.parameters)} for t in tools],
        ensure_ascii=False,
    )
    return (
        "You are an expert in composing functions. You are given a question and a set of possible "
        "functions. Based on the question, you will need to make one or more function/tool calls to "
        "achieve the purpose. If none of the functions can be used, answer the question directly.\n\n"
        f"You have access to the following tools:\n<tools>{listed}</tools>\n\n"
        "The output MUST strictly adhere to the following format, and NO other text MUST be included.\n"
        "The example format is as follows. Please make sure the parameter type is correct.\n"
        f'{CALL_OPEN}[\n{{"name": "func_name1", "arguments": {{"argument1": "value1"}}}}\n]{CALL_CLOSE}'
    )


# -- validation --------------------------------------------------------------------------------------
def argument_problems(tool: ToolSpec | None, arguments: str) -> list[str]:
    """Why `arguments` (JSON text) are not a valid call of `tool` ([] when they are)."""
    if tool is None:
        return ["the function is not one of the tools"]
    try:
        value = json.loads(arguments)
    except ValueError as exc:
        return [f"arguments are not JSON: {exc}"]
    return [e.message for e in Draft202012Validator(dict(tool.parameters)).iter_errors(value)]


def by_name(tools: Sequence[ToolSpec]) -> Mapping[str, ToolSpec]:
    return {t.name: t for t in tools}
