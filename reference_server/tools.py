"""Tool calling and structured output, endpoint-neutral: what a request asks of the output, how
calls are written in the model's text, and how that text becomes calls, streamed or not.

The parts are reused by every endpoint that generates (chat completions today, the Responses API
next): `structure_of` turns the request's `tools`, `tool_choice`, `parallel_tool_calls` and
`response_format` into an engine `Structure`; `CallParser` reads generated text piece by piece and
hands back `OutputEvent`s (text, a call's start with its id and name, a fragment of its arguments)
that an endpoint shapes into its own deltas; `argument_problems` says whether a call's arguments
validate against its tool.

The tool-call format is SmolLM2's (its instruct data, the model card's function-calling prompt):
`<tool_call>[{"name": ..., "arguments": {...}}, ...]</tool_call>`. Both engines write it; the
transformers engine's grammar forces it under `required` and a named tool_choice.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .engines.base import Structure, ToolCall, ToolSpec
from .errors import APIError

Json = dict[str, Any]
CALL_OPEN = "<tool_call>"
CALL_CLOSE = "</tool_call>"
MAX_TOOLS = 128  # OpenAI's documented maximum
# Tools OpenAI's API knows that this server does not run: refused with a 400 naming them.
UNSUPPORTED_TOOL_TYPES = ("custom", "web_search", "file_search", "code_interpreter", "computer_use_preview")


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


def new_call_id() -> str:
    return "call_" + secrets.token_hex(12)


@dataclass(frozen=True)
class TextOut:
    """Text for the answer's content."""

    text: str


@dataclass(frozen=True)
class CallStart:
    """A call begins: its position among the answer's calls, its id and its function's name."""

    index: int
    id: str
    name: str


@dataclass(frozen=True)
class ArgumentsOut:
    """A fragment of a call's arguments (the fragments of one call join into its JSON text)."""

    index: int
    fragment: str


OutputEvent = TextOut | CallStart | ArgumentsOut


class CallParser:
    """Reads generated text piece by piece; `feed` and `finish` return what can be shown.

    Text before a `<tool_call>` block is content (held back while it could still be the block's
    opening). Inside the block, each call's `name` is announced once its string ends, then its
    `arguments` value streams as the model writes it, fragment by fragment. With `tools=False`
    (tool_choice none, or no tools) everything is content.
    """

    def __init__(self, *, tools: bool) -> None:
        self._tools = tools
        self._pending = ""  # content held back: it may be the start of CALL_OPEN
        self._scanner: _CallScanner | None = None
        self.calls: list[ToolCall] = []

    def feed(self, text: str) -> list[OutputEvent]:
        if not self._tools:
            return [TextOut(text)] if text else []
        if self._scanner is not None:
            return self._scanner.feed(text)
        self._pending += text
        at = self._pending.find(CALL_OPEN)
        if at >= 0:
            before, after = self._pending[:at], self._pending[at + len(CALL_OPEN) :]
            self._pending = ""
            self._scanner = _CallScanner(self.calls)
            return [*([TextOut(before)] if before.strip() else []), *self._scanner.feed(after)]
        keep = _prefix_overlap(self._pending, CALL_OPEN)
        shown, self._pending = (
            self._pending[: len(self._pending) - keep],
            self._pending[len(self._pending) - keep :],
        )
        return [TextOut(shown)] if shown else []

    def finish(self, *, cut: bool = False) -> list[OutputEvent]:
        """What is left once generation ended (text held back that never became a block). `cut`: the
        token limit ended it, so a block that never named a call is dropped, not shown as text."""
        if self._scanner is not None:
            return self._scanner.finish(cut=cut)
        rest, self._pending = self._pending, ""
        return [TextOut(rest)] if rest else []


def _prefix_overlap(text: str, marker: str) -> int:
    """The length of the longest tail of `text` that begins `marker`."""
    for k in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-k:]):
            return k
    return 0


class _CallScanner:
    """A small incremental scanner over `[{"name": ..., "arguments": ...}, ...]</tool_call>` (or one
    bare call object, as Hermes-style models write it).

    It tracks JSON nesting and strings only as far as it needs to find, in each call object, the
    `name` string and the raw text of the `arguments` value; a block it cannot read as calls (a
    malformed one, possible only where no grammar bound the model) is kept as content.
    """

    def __init__(self, calls: list[ToolCall]) -> None:
        self.calls = calls
        self.raw = ""  # the block's text, for content when it is not a call list
        self.depth = 0
        self.bare = False  # one call object, no list around it
        self.in_string = False
        self.escape = False
        self.expect_key = False
        self.key: str | None = None  # the key whose value is being read in a call object
        self.token = ""  # the string being read (a key or the name)
        self.name: str | None = None
        self.arguments = ""  # the current call's arguments text, as read so far
        self.shown = 0  # characters of `arguments` announced
        self.in_arguments = False
        self.arguments_done = False
        self.closed = False  # the list ended
        self.tail = ""  # text after the list

    def feed(self, text: str) -> list[OutputEvent]:
        events: list[OutputEvent] = []
        for ch in text:
            if self.closed:
                self.tail += ch
                continue
            self.raw += ch
            self._step(ch, events)
        self._flush_arguments(events)
        return events

    def finish(self, *, cut: bool = False) -> list[OutputEvent]:
        events: list[OutputEvent] = []
        self._flush_arguments(events)
        if not self.calls:  # never a call: it was text, unless the limit cut a call short
            return [] if cut and not self.closed else [TextOut(CALL_OPEN + self.raw + self.tail)]
        tail = self.tail.strip()
        if tail.startswith(CALL_CLOSE):
            tail = tail[len(CALL_CLOSE) :].strip()
        return [*events, *([TextOut(tail)] if tail else [])]

    def _step(self, ch: str, events: list[OutputEvent]) -> None:
        if self.in_arguments and (self.arguments or not ch.isspace()):
            self.arguments += ch
        if self.in_string:
            self._string_char(ch, events)
            return
        if ch == '"':
            self.in_string, self.token = True, ""
        elif ch in "[{":
            if self.depth == 0 and ch == "{":  # one bare call object: read it as a list of one
                self.depth, self.bare = 1, True
            self.depth += 1
            if self.depth == 2 and ch == "{":  # a call object opens
                self.expect_key, self.name = True, None
                self.arguments, self.shown, self.in_arguments, self.arguments_done = "", 0, False, False
        elif ch in "]}":
            self.depth -= 1
            if self.in_arguments and self.depth == 2:  # the arguments' container closed
                self._end_arguments(events)
            if self.depth == 1 and ch == "}":
                self._end_call(events)
                if self.bare:
                    self.depth = 0
            if self.depth <= 0:
                self.closed = True
        elif ch == ":" and self.depth == 2:
            self.expect_key = False
            if self.key == "arguments":
                self.in_arguments = True
        elif ch == "," and self.depth == 2:
            if self.in_arguments:
                self.arguments = self.arguments[:-1]  # the separator is not the value's
                self._end_arguments(events)
            self.expect_key = True

    def _string_char(self, ch: str, events: list[OutputEvent]) -> None:
        if self.escape:
            self.escape = False
        elif ch == "\\":
            self.escape = True
        elif ch == '"':
            self.in_string = False
            self._string_done(events)
            return
        self.token += ch

    def _string_done(self, events: list[OutputEvent]) -> None:
        if self.depth != 2:
            return
        if self.expect_key:
            self.key = self.token
        elif self.key == "name" and self.name is None:
            self.name = _unescape(self.token)
            call = ToolCall(new_call_id(), self.name, "")
            self.calls.append(call)
            events.append(CallStart(len(self.calls) - 1, call.id, call.name))

    def _flush_arguments(self, events: list[OutputEvent]) -> None:
        """Announce the arguments read so far, once the call has its name."""
        if self.name is None or not (self.in_arguments or self.arguments_done):
            return
        fragment = self.arguments[self.shown :]
        if fragment:
            self.shown += len(fragment)
            call = self.calls[-1]
            self.calls[-1] = ToolCall(call.id, call.name, call.arguments + fragment)
            events.append(ArgumentsOut(len(self.calls) - 1, fragment))

    def _end_arguments(self, events: list[OutputEvent]) -> None:
        self.in_arguments, self.arguments_done = False, True
        self._flush_arguments(events)

    def _end_call(self, events: list[OutputEvent]) -> None:
        if self.in_arguments:  # a scalar value, ended by the call object's own "}"
            self.arguments = self.arguments[:-1].rstrip()
            self._end_arguments(events)


def _unescape(token: str) -> str:
    try:
        return json.loads(f'"{token}"')
    except ValueError:
        return token


def parse_output(text: str, *, tools: bool, cut: bool = False) -> tuple[str, list[ToolCall]]:
    """(content, calls) of a finished answer (`cut`: by the token limit): the streamed parse, at once."""
    parser = CallParser(tools=tools)
    events = [*parser.feed(text), *parser.finish(cut=cut)]
    content = "".join(e.text for e in events if isinstance(e, TextOut))
    return content, list(parser.calls)


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
