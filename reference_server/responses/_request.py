"""A Responses request as the shared generation path sees it: a chat conversation.

`conversation` turns `instructions`, the stored conversation of `previous_response_id` and `input`
into the chat completions body `generation.chat_job` serves, so that the Responses API generates
exactly as chat does (sampling, limits, JSON mode, tools). It remembers where each chat message came
from, so that an error the chat path raises names the Responses parameter (`input[2].content`, not
`messages[3].content`). What the Responses API takes that chat does not say is checked here.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import APIError

Json = dict[str, Any]

# Accepted with no effect on the output (tags, hints and identifiers), passed to the chat path as-is.
PASSED_THROUGH = ("temperature", "top_p", "metadata", "user", "safety_identifier", "prompt_cache_key",
                  "service_tier", "parallel_tool_calls")  # fmt: skip
# The chat path's parameter names, as the Responses API spells them (longest prefix first).
_RENAMED = (
    ("response_format.json_schema.", "text.format."),
    ("response_format", "text.format"),
    ("max_completion_tokens", "max_output_tokens"),
    ("tool_choice.function.", "tool_choice."),
)
_TOOL_FUNCTION = re.compile(r"^tools\[(\d+)\]\.function\.")
_MESSAGE = re.compile(r"^messages\[(\d+)\]")
_MESSAGES = re.compile(r"messages\[(\d+)\]")


@dataclass
class Conversation:
    """What one request asks the model: the chat body, and this request's input as stored items."""

    chat_body: Json
    input_items: list[Json]  # this request's input, normalized, each with an id (for input_items)
    origins: list[str] = field(default_factory=list)  # per chat message, the parameter it came from

    def public_error(self, exc: APIError) -> APIError:
        """`exc` from the chat path, naming the Responses parameter instead of the chat one."""
        param = exc.param
        if param is None:
            return exc
        renamed = _rename(param, self.origins)
        if renamed == param:
            return exc
        message = _MESSAGES.sub(lambda m: self._origin(int(m.group(1))), exc.message.replace(param, renamed))
        return APIError(exc.status, message, type=exc.type, param=renamed, code=exc.code, headers=exc.headers)

    def _origin(self, index: int) -> str:
        return self.origins[index] if index < len(self.origins) else "input"


def conversation(body: Json, context: Sequence[Json] = ()) -> Conversation:
    """The chat conversation for a Responses request body (valid against CreateResponse), after the
    stored items of the response it continues (`context`: that response's input and output, and its
    own context before them)."""
    _refuse_unsupported(body)
    messages: list[Json] = []
    origins: list[str] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
        origins.append("instructions")
    for item in context:
        _append(messages, origins, item, "previous_response_id")
    items = input_items(body.get("input"))
    if not items and not context:
        raise APIError(400, "input must not be empty", param="input", code="invalid_value")
    for j, item in enumerate(items):
        _append(messages, origins, item, f"input[{j}]")
    chat_body: Json = {"model": body["model"], "messages": messages}
    for name in PASSED_THROUGH:
        if body.get(name) is not None:
            chat_body[name] = body[name]
    if body.get("max_output_tokens") is not None:
        chat_body["max_completion_tokens"] = body["max_output_tokens"]
    response_format = _response_format(body.get("text"))
    if response_format is not None:
        chat_body["response_format"] = response_format
    tools = [_chat_tool(tool) for tool in body.get("tools") or ()]
    if tools:
        chat_body["tools"] = tools
    choice = body.get("tool_choice")
    if choice is not None:
        chat_body["tool_choice"] = (
            choice
            if isinstance(choice, str)
            else {"type": "function", "function": {"name": choice.get("name")}}
        )
    return Conversation(chat_body, items, origins)


def input_items(value: Any) -> list[Json]:
    """`input` as stored items: text becomes one user message; each item gets an id; a message's
    content becomes a list of parts."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [{"role": "user", "content": value}]
    items = []
    for raw in value:
        kind = raw.get("type", "message")
        item: Json = {**raw, "type": kind}
        if kind == "message":
            content = raw["content"]
            part = "output_text" if raw["role"] == "assistant" else "input_text"
            if isinstance(content, str):
                content = [{"type": part, "text": content}]
            item["content"] = [_stored_part(p) for p in content]
            item.setdefault("status", "completed")
        elif kind == "function_call":
            item.setdefault("status", "completed")
        elif kind == "function_call_output":
            item = {k: v for k, v in item.items() if v is not None}
            item.setdefault("status", "completed")
        item.setdefault("id", new_item_id(kind))
        items.append(item)
    return items


_ID_PREFIXES = {"message": "msg", "function_call": "fc", "function_call_output": "fco"}


def new_item_id(kind: str) -> str:
    return f"{_ID_PREFIXES.get(kind, 'item')}_{secrets.token_hex(16)}"


def _stored_part(part: Json) -> Json:
    if part.get("type") == "output_text":
        return {"annotations": [], **part}
    return dict(part)


def _append(messages: list[Json], origins: list[str], item: Json, origin: str) -> None:
    """Add one stored item to the chat conversation (consecutive function calls share one assistant
    message, as a chat turn that called several tools does)."""
    kind = item.get("type", "message")
    if kind == "message":
        role = item["role"]
        messages.append({"role": "system" if role == "developer" else role, "content": _text(item, origin)})
        origins.append(origin)
    elif kind == "function_call":
        call = {
            "id": item["call_id"],
            "type": "function",
            "function": {"name": item["name"], "arguments": item["arguments"]},
        }
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant":  # the same assistant turn
            last.setdefault("tool_calls", []).append(call)
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
            origins.append(origin)
    elif kind == "function_call_output":
        output = item["output"]
        if not isinstance(output, str):
            output = "\n".join(_part_text(p, f"{origin}.output[{k}]") for k, p in enumerate(output))
        messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": output})
        origins.append(origin)
    else:  # a stored output item of a type this server never makes
        raise APIError(400, f"{origin}: items of type {kind!r} are not supported", param=origin)


def _text(message: Json, origin: str) -> str:
    return "\n".join(_part_text(p, f"{origin}.content[{k}]") for k, p in enumerate(message["content"]))


def _part_text(part: Json, where: str) -> str:
    kind = part.get("type")
    if kind in ("input_text", "output_text"):
        return part["text"]
    if kind == "refusal":
        return part["refusal"]
    raise APIError(
        400,
        f"{where}: content of type {kind!r} is not supported (this model reads text only)",
        param=f"{where}.type",
        code="unsupported_parameter",
    )


def _response_format(text: Any) -> Json | None:
    if not isinstance(text, dict) or text.get("format") is None:
        return None
    fmt = text["format"]
    if fmt["type"] != "json_schema":
        return {"type": fmt["type"]}
    spec = {k: fmt[k] for k in ("name", "description", "schema", "strict") if k in fmt}
    return {"type": "json_schema", "json_schema": spec}


def _chat_tool(tool: Json) -> Json:
    function = {
        k: tool[k] for k in ("name", "description", "parameters", "strict") if tool.get(k) is not None
    }
    return {"type": "function", "function": function}


def _refuse_unsupported(body: Json) -> None:
    """Parameters that would change the answer and that this server cannot honour: a 400 naming
    each, never a silent default."""
    if body.get("include"):
        raise _unsupported("include", "include is not supported (no built-in tools or encrypted reasoning)")
    if body.get("background") is True:
        raise _unsupported("background", "background mode is not supported")
    if body.get("truncation") == "auto":
        raise _unsupported("truncation", "truncation 'auto' is not supported; a too long input is a 400")
    effort = (body.get("reasoning") or {}).get("effort")
    if effort not in (None, "none"):
        raise _unsupported("reasoning.effort", "this model does not reason; reasoning.effort must be 'none'")
    if (body.get("top_logprobs") or 0) > 0:
        raise _unsupported("top_logprobs", "top_logprobs is not supported on this endpoint")
    verbosity = (body.get("text") or {}).get("verbosity")
    if verbosity not in (None, "medium"):
        raise _unsupported("text.verbosity", "text.verbosity other than 'medium' is not supported")


def _unsupported(param: str, message: str) -> APIError:
    return APIError(400, message, param=param, code="unsupported_parameter")


def _rename(param: str, origins: Sequence[str]) -> str:
    found = _MESSAGE.match(param)
    if found:
        index = int(found.group(1))
        origin = origins[index] if index < len(origins) else "input"
        rest = param[found.end() :]
        # A chat message is one item (its content joined): name the item, or the call it answers.
        return origin + (".call_id" if rest == ".tool_call_id" and origin != "previous_response_id" else "")
    tool = _TOOL_FUNCTION.match(param)
    if tool:
        return f"tools[{tool.group(1)}]." + param[tool.end() :]
    for old, new in _RENAMED:
        if param.startswith(old):
            return new + param[len(old) :]
    return param
