"""Faults that fail the tools checks: calls of the wrong shape, a broken delta grammar, and
`tool_choice`, `parallel_tool_calls` and `response_format` accepted but ignored. Each is a bug seen
in a real server (../shared/FIELD.md, and the check's docstring names them)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from ._hooks import choices, chunk_hook, on, request_edit, without
from ._registry import Fault, Json, fault

CHAT = ("chat",)
_LATE_IDS: dict[
    tuple[str, int], str
] = {}  # (stream id, call index) -> the id held back (tools-stream-id-late)
_LATE_IDS_MAX = 1024


def _tool_calls_in(payload: Json, holder: str) -> Iterator[tuple[Json, Json]]:
    """(entry, its `holder`) for every `tool_calls` entry of every choice's `holder` (message or delta)."""
    for choice in choices(payload):
        held = choice.get(holder)
        for entry in (held.get("tool_calls") or []) if isinstance(held, dict) else []:
            yield entry, held


def _each_call(edit: Callable[[Json, Json], None]) -> Any:
    """A response edit that applies `edit(call, message)` to every tool call."""

    def apply(payload: Json, request: Json) -> Json:
        for call, message in _tool_calls_in(payload, "message"):
            edit(call, message)
        return payload

    return apply


def _each_delta(edit: Callable[[Json, Json], None]) -> Any:
    """A chunk edit that applies `edit(entry, chunk)` to every `delta.tool_calls` entry."""

    def apply(payload: Json, position: int) -> Json:
        for entry, _ in _tool_calls_in(payload, "delta"):
            edit(entry, payload)
        return payload

    return apply


def _set(key: str, value: Any) -> Callable[[Json, Json], None]:
    return lambda call, message: call.__setitem__(key, value)


def _rename(call: Json, message: Json) -> None:
    call["function"]["name"] += "_v2"


def _arguments_object(call: Json, message: Json) -> None:
    call["function"]["arguments"] = json.loads(call["function"]["arguments"])


def _arguments_invalid(call: Json, message: Json) -> None:
    call["function"]["arguments"] = '{"unexpected": true}'


def _finish_stop(payload: Json, request: Json) -> Json:
    for choice in choices(payload):
        if choice.get("finish_reason") == "tool_calls":
            choice["finish_reason"] = "stop"
    return payload


def _calls_as_text(payload: Json, request: Json) -> Json:
    for choice in choices(payload):
        message = choice.get("message") or {}
        calls = message.pop("tool_calls", None)
        if calls:
            listed = [
                {"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
                for c in calls
            ]
            message["content"] = "<tool_call>" + json.dumps(listed) + "</tool_call>"
    return payload


def _no_index(entry: Json, chunk: Json) -> None:
    entry.pop("index", None)


def _id_late(entry: Json, chunk: Json) -> None:
    key = (str(chunk.get("id")), int(entry.get("index", 0)))
    if "id" in entry:  # the call's first delta: hold its id back for the next one
        if len(_LATE_IDS) >= _LATE_IDS_MAX:
            _LATE_IDS.clear()
        _LATE_IDS[key] = entry.pop("id")
    elif key in _LATE_IDS:
        entry["id"] = _LATE_IDS.pop(key)


def _id_changes(entry: Json, chunk: Json) -> None:
    if "id" not in entry:
        entry["id"] = f"call_changed_{chunk.get('id')}"


def _arguments_null(entry: Json, chunk: Json) -> None:
    function = entry.get("function")
    if isinstance(function, dict) and function.get("arguments") and "name" not in function:
        function["arguments"] = None


def _arguments_respaced(entry: Json, chunk: Json) -> None:
    # A blank before each object the arguments open: still valid JSON, no longer the unary text.
    function = entry.get("function")
    if isinstance(function, dict) and isinstance(function.get("arguments"), str):
        function["arguments"] = function["arguments"].replace("{", " {")


def _stream_finish_stop(payload: Json, position: int) -> Json:
    for choice in choices(payload):
        if choice.get("finish_reason") == "tool_calls":
            choice["finish_reason"] = "stop"
    return payload


def _choice_swap(old: Any, new: Any) -> Any:
    def edit(body: Json) -> Json:
        choice = body.get("tool_choice")
        if choice == old or (old == "named" and isinstance(choice, dict)):
            if new is None:
                body.pop("tool_choice")
            else:
                body["tool_choice"] = new
        return body

    return edit


def _content_null_refused(body: Json) -> Json:
    for message in body.get("messages") or []:
        if isinstance(message, dict) and message.get("tool_calls") and not message.get("content"):
            message["content"] = 0  # a type the schema refuses: the 400 lmstudio#261 and vLLM#21089 gave
    return body


def _only_for_format(kind: str) -> Any:
    def edit(body: Json) -> Json:
        fmt = body.get("response_format")
        return without("response_format")(body) if isinstance(fmt, dict) and fmt.get("type") == kind else body

    return edit


# -- unary calls --------------------------------------------------------------------------------------------
fault(
    Fault(
        "tools-call-type-wrong",
        "tools.call.shape",
        'calls of type "tool"',
        response=on(CHAT, _each_call(_set("type", "tool"))),
    )
)
fault(
    Fault(
        "tools-call-id-empty",
        "tools.call.id",
        "every call id is empty (openai-dotnet#428)",
        response=on(CHAT, _each_call(_set("id", ""))),
    )
)
fault(
    Fault(
        "tools-call-name-undeclared",
        "tools.call.name-declared",
        "calls name a function no tool declares",
        response=on(CHAT, _each_call(_rename)),
    )
)
fault(
    Fault(
        "tools-arguments-object",
        "tools.call.arguments-string",
        "arguments as a JSON object, not a string (llama.cpp#20198)",
        response=on(CHAT, _each_call(_arguments_object)),
    )
)
fault(
    Fault(
        "tools-arguments-invalid",
        "tools.call.arguments-valid",
        "arguments that fail the tool's schema",
        response=on(CHAT, _each_call(_arguments_invalid)),
    )
)
fault(
    Fault(
        "tools-finish-stop",
        "tools.finish-reason",
        'finish_reason "stop" beside calls (sglang#2877)',
        response=on(CHAT, _finish_stop),
    )
)
fault(
    Fault(
        "tools-call-in-content",
        "tools.call.not-in-content",
        "calls written into content as <tool_call> text",
        response=on(CHAT, _calls_as_text),
    )
)

# -- the streamed delta grammar -------------------------------------------------------------------------
fault(
    Fault(
        "tools-stream-no-index",
        "tools.stream.index",
        "tool-call deltas without `index` (ollama#7881)",
        chunk=chunk_hook(_each_delta(_no_index), CHAT),
    )
)
fault(
    Fault(
        "tools-stream-id-late",
        "tools.stream.first-delta",
        "a call's id only on its second delta",
        chunk=chunk_hook(_each_delta(_id_late), CHAT),
    )
)
fault(
    Fault(
        "tools-stream-id-changes",
        "tools.stream.later-deltas",
        "later deltas carry another id",
        chunk=chunk_hook(_each_delta(_id_changes), CHAT),
    )
)
fault(
    Fault(
        "tools-stream-arguments-null",
        "tools.stream.arguments-valid",
        "argument fragments sent as null (vLLM#9693)",
        chunk=chunk_hook(_each_delta(_arguments_null), CHAT),
    )
)
fault(
    Fault(
        "tools-stream-finish-stop",
        "tools.stream.finish-reason",
        'streamed calls end with "stop" (LocalAI#4716)',
        chunk=chunk_hook(_stream_finish_stop, CHAT),
    )
)
fault(
    Fault(
        "tools-stream-arguments-respaced",
        "tools.stream.matches-unary",
        "streamed arguments differ from the unary ones",
        chunk=chunk_hook(_each_delta(_arguments_respaced), CHAT),
    )
)

# -- parameters accepted and ignored ---------------------------------------------------------------------
fault(
    Fault(
        "tools-choice-none-ignored",
        "tools.choice.none",
        'tool_choice "none" served as auto (vLLM#49712)',
        request=request_edit(CHAT, _choice_swap("none", None)),
    )
)
fault(
    Fault(
        "tools-choice-required-ignored",
        "tools.choice.required",
        'tool_choice "required" served as "none"',
        request=request_edit(CHAT, _choice_swap("required", "none")),
    )
)
fault(
    Fault(
        "tools-choice-named-ignored",
        "tools.choice.named",
        'a named tool_choice served as "required" (mlx-vlm#1045)',
        request=request_edit(CHAT, _choice_swap("named", "required")),
    )
)
fault(
    Fault(
        "tools-parallel-ignored",
        "tools.parallel.off",
        "parallel_tool_calls dropped (sglang#9696)",
        request=request_edit(CHAT, without("parallel_tool_calls")),
    )
)
fault(
    Fault(
        "tools-strict-schema-ignored",
        "tools.strict-schema",
        "json_schema response_format dropped (omlx#1241)",
        request=request_edit(CHAT, _only_for_format("json_schema")),
    )
)
fault(
    Fault(
        "tools-json-object-ignored",
        "tools.json-object",
        "json_object response_format dropped",
        request=request_edit(CHAT, _only_for_format("json_object")),
    )
)
fault(
    Fault(
        "tools-round-trip-refused",
        "tools.round-trip.accepted",
        "an assistant message with calls and no content is refused (lmstudio#261)",
        request=request_edit(CHAT, _content_null_refused),
    )
)
