"""The Response object and the event grammar of a streamed response, built once for both ways.

`EventGrammar` turns what generation produces (text as it comes, then how it ended) into the
Responses stream: `response.created`, `response.in_progress`, per item `output_item.added`, per part
`content_part.added`, `output_text.delta`..., `output_text.done`, `content_part.done`,
`output_item.done` (a function call's item: `function_call_arguments.delta`... and `.done` before it),
then `response.completed` (or `.incomplete`, or `error` and `response.failed`), each with the next
`sequence_number`. A unary answer is the same grammar's final response, so the
two can only agree.
"""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from ._request import new_item_id

Json = dict[str, Any]


def new_response_id() -> str:
    return "resp_" + secrets.token_hex(24)


def usage(input_tokens: int, output_tokens: int) -> Json:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def skeleton(body: Json, *, response_id: str, model: str) -> Json:
    """The Response before any output: in progress, with the request's settings echoed."""
    text = body.get("text") or {}
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "background": False,
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": model,
        "output": [],
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": body.get("store") is not False,
        "temperature": _number(body.get("temperature"), 1.0),
        "text": {"format": text.get("format") or {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": [_tool(t) for t in body.get("tools") or ()],
        "top_logprobs": 0,
        "top_p": _number(body.get("top_p"), 1.0),
        "truncation": "disabled",
        "usage": None,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
        "safety_identifier": body.get("safety_identifier"),
        "prompt_cache_key": body.get("prompt_cache_key"),
    }


def _number(value: Any, default: float) -> float:
    return default if value is None else float(value)


def _tool(tool: Json) -> Json:
    """A function tool as the response echoes it (strict by default in this API)."""
    strict = tool.get("strict")
    return {
        "type": "function",
        "name": tool["name"],
        "description": tool.get("description"),
        "parameters": tool.get("parameters"),
        "strict": True if strict is None else strict,
    }


class EventGrammar:
    """One response's output and events, in the order the stream sends them."""

    def __init__(self, response: Json, *, obfuscate: bool = False) -> None:
        self.response = response
        self.obfuscate = obfuscate  # stream_options.include_obfuscation: pad delta events
        self.sequence = 0
        self._message: Json | None = None  # the message item being written, if any
        self._call: Json | None = None  # the function call item being written, if any

    def _event(self, kind: str, **fields: Any) -> Json:
        event = {"type": kind, **fields, "sequence_number": self.sequence}
        self.sequence += 1
        return event

    def _snapshot(self, kind: str) -> Json:
        return self._event(kind, response=copy.deepcopy(self.response))

    @property
    def _index(self) -> int:
        return len(self.response["output"]) - 1

    def started(self) -> list[Json]:
        return [self._snapshot("response.created"), self._snapshot("response.in_progress")]

    def text(self, delta: str) -> list[Json]:
        """Events for text the model wrote: the message item and its part opened first, then the delta."""
        if not delta:
            return []
        events = self._close_call("completed")
        if self._message is None:
            events += self._open_message()
        assert self._message is not None
        part = self._message["content"][0]
        part["text"] += delta
        fields: Json = {}
        if self.obfuscate:
            fields["obfuscation"] = secrets.token_urlsafe(secrets.randbelow(12) + 1)
        events.append(
            self._event(
                "response.output_text.delta",
                item_id=self._message["id"],
                output_index=self._index,
                content_index=0,
                delta=delta,
                logprobs=[],
                **fields,
            )
        )
        return events

    def _open_message(self) -> list[Json]:
        message: Json = {
            "id": new_item_id("message"),
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        self.response["output"].append(message)
        self._message = message
        added = self._event(
            "response.output_item.added", output_index=self._index, item=copy.deepcopy(message)
        )
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        message["content"].append(part)
        part_added = self._event(
            "response.content_part.added",
            item_id=message["id"],
            output_index=self._index,
            content_index=0,
            part=copy.deepcopy(part),
        )
        return [added, part_added]

    def _close_message(self, status: str) -> list[Json]:
        message, self._message = self._message, None
        if message is None:
            return []
        index = self.response["output"].index(message)
        part = message["content"][0]
        where = {"item_id": message["id"], "output_index": index, "content_index": 0}
        message["status"] = status
        return [
            self._event("response.output_text.done", **where, text=part["text"], logprobs=[]),
            self._event("response.content_part.done", **where, part=copy.deepcopy(part)),
            self._event("response.output_item.done", output_index=index, item=copy.deepcopy(message)),
        ]

    def call_start(self, call_id: str, name: str) -> list[Json]:
        """A function call begins (the message or call before it is done): its item, with no arguments yet."""
        events = [*self._close_message("completed"), *self._close_call("completed")]
        call: Json = {
            "id": new_item_id("function_call"),
            "type": "function_call",
            "status": "in_progress",
            "call_id": call_id,
            "name": name,
            "arguments": "",
        }
        self.response["output"].append(call)
        self._call = call
        events.append(
            self._event("response.output_item.added", output_index=self._index, item=copy.deepcopy(call))
        )
        return events

    def call_arguments(self, fragment: str) -> list[Json]:
        """A fragment of the current call's arguments."""
        if not fragment or self._call is None:
            return []
        self._call["arguments"] += fragment
        index = self.response["output"].index(self._call)
        return [
            self._event(
                "response.function_call_arguments.delta",
                item_id=self._call["id"],
                output_index=index,
                delta=fragment,
            )
        ]

    def _close_call(self, status: str) -> list[Json]:
        call, self._call = self._call, None
        if call is None:
            return []
        index = self.response["output"].index(call)
        call["status"] = status
        done = {
            "item_id": call["id"],
            "output_index": index,
            "name": call["name"],
            "arguments": call["arguments"],
        }
        return [
            self._event("response.function_call_arguments.done", **done),
            self._event("response.output_item.done", output_index=index, item=copy.deepcopy(call)),
        ]

    def finished(self, finish_reason: str, input_tokens: int, output_tokens: int) -> list[Json]:
        """Close what is open and end the response: completed, or incomplete when the token limit cut it."""
        events = self._open_message() if not self.response["output"] else []
        cut = finish_reason == "length"
        events += self._close_message("incomplete" if cut else "completed")
        events += self._close_call("incomplete" if cut else "completed")
        self.response["usage"] = usage(input_tokens, output_tokens)
        if cut:
            self.response["status"] = "incomplete"
            self.response["incomplete_details"] = {"reason": "max_output_tokens"}
        else:
            self.response["status"] = "completed"
            self.response["completed_at"] = int(time.time())
        events.append(self._snapshot("response.incomplete" if cut else "response.completed"))
        return events

    def failed(self, code: str, message: str, param: str | None = None) -> list[Json]:
        """An error after the stream started: the `error` event, then the failed response."""
        events = [self._event("error", code=code, message=message, param=param)]
        events += [*self._close_message("incomplete"), *self._close_call("incomplete")]
        self.response["status"] = "failed"
        self.response["error"] = {"code": code, "message": message}
        events.append(self._snapshot("response.failed"))
        return events
