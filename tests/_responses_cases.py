"""Synthetic Responses API exchanges for the tests: Response objects, and event streams framed as the
reference server frames them (`event:` and `data:` lines, through a FaultSet's chunk and frame hooks)
and read back by the real reader."""

from __future__ import annotations

import copy
import json
from typing import Any

from _check_cases import BASE, T0, Json, exchange, faulty

from compat_suite.exchange import RecordedRequest, StreamExchange
from compat_suite.sse import SSEReader
from reference_server.faults import FaultSet

REQ: Json = {"model": "m", "input": "hi", "max_output_tokens": 16}
MSG_ID = "msg_1"


def message(text: str = "hello there", status: str = "completed") -> Json:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"id": MSG_ID, "type": "message", "status": status, "role": "assistant", "content": [part]}


def response(
    text: str = "hello there", *, status: str = "completed", output_tokens: int = 2, **extra: Any
) -> Json:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": T0,
        "status": status,
        "completed_at": T0 if status == "completed" else None,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": None,
        "model": "m",
        "output": [message(text, status)],
        "parallel_tool_calls": True,
        "tools": [],
        "tool_choice": "auto",
        "temperature": 1.0,
        "top_p": 1.0,
        "metadata": {},
        "usage": {
            "input_tokens": 5,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 5 + output_tokens,
        },
        **extra,
    }


RESP = response()
CUT = response("one two", status="incomplete", output_tokens=16)


def resp(payload: Json = RESP, request: Json = REQ, **kw: Any) -> Any:
    return exchange("responses", request, payload, **kw)


def faulted(fault_id: str, payload: Json = RESP, request: Json = REQ, endpoint: str = "responses") -> Any:
    return resp(faulty(fault_id, endpoint, payload, request), request)


def served_request(fault_id: str, request: Json) -> Json:
    """The request as the server serves it with the fault's request hook."""
    return FaultSet([fault_id]).request("responses", copy.deepcopy(request))


def get(path: str, payload: Any, status: int = 200) -> Any:
    return exchange("responses", None, payload, status=status, url=f"{BASE}/responses/{path}")


# -- streams --------------------------------------------------------------------------------------------------
def events(deltas: tuple[str, ...] = ("hello", " there"), *, cut: bool = False) -> list[Json]:
    """A text response's events, as the Responses API streams them (without sequence numbers yet)."""
    text = "".join(deltas)
    status = "incomplete" if cut else "completed"
    start = {**response(), "status": "in_progress", "output": [], "usage": None, "completed_at": None}
    where = {"item_id": MSG_ID, "output_index": 0, "content_index": 0}
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    out: list[Json] = [
        {"type": "response.created", "response": start},
        {"type": "response.in_progress", "response": start},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**message(status="in_progress"), "content": []},
        },
        {"type": "response.content_part.added", **where, "part": part},
        *({"type": "response.output_text.delta", **where, "delta": d, "logprobs": []} for d in deltas),
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "part": {**part, "text": text}},
        {"type": "response.output_item.done", "output_index": 0, "item": message(text, status)},
        {
            "type": "response.incomplete" if cut else "response.completed",
            "response": response(text, status=status, output_tokens=16 if cut else 2),
        },
    ]
    return [{**e, "sequence_number": i} for i, e in enumerate(out)]


def stream(
    items: list[Json] | None = None, *, faults: tuple[str, ...] = (), request: Json = REQ
) -> StreamExchange:
    """A Responses stream: each event through the fault set's chunk and frame hooks, as the server frames it."""
    fs = FaultSet(faults)
    frames = []
    for position, event in enumerate(copy.deepcopy(items if items is not None else events())):
        shaped = fs.chunk("responses", event, position, request)
        if shaped is not None:
            frames.append(fs.frame(json.dumps(shaped), shaped.get("type")))
    body = b"".join(frames)
    ex = StreamExchange(
        "responses",
        RecordedRequest("POST", BASE + "/responses", {}, json.dumps({**request, "stream": True}).encode()),
        status=200,
        headers={"content-type": "text/event-stream"},
        body=body,
    )
    reader = SSEReader(expect_json=True)
    for i, frame in enumerate(frames):
        reader.feed(frame, received_ns=1_000_000 * (i + 1))
    reader.close()
    ex.events, ex.problems = list(reader.events), list(reader.problems)
    return ex


LISTED = {
    "object": "list",
    "data": [
        {
            "id": "msg_a",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_text", "text": "My name is Alice."}],
        },
        {
            "id": "msg_b",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_text", "text": "Who?"}],
        },
    ],
    "has_more": False,
    "first_id": "msg_a",
    "last_id": "msg_b",
}


TOOL: Json = {
    "type": "function",
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
TOOLS_REQ: Json = {**REQ, "tools": [TOOL], "tool_choice": {"type": "function", "name": "get_weather"}}
ARGUMENTS = '{"city": "Paris"}'


def function_call(arguments: str = ARGUMENTS, *, status: str = "completed", call_id: str = "call_1") -> Json:
    return {"id": "fc_1", "type": "function_call", "status": status, "call_id": call_id,
            "name": "get_weather", "arguments": arguments}  # fmt: skip


def called(*calls: Json) -> Json:
    """A Response whose output is function calls."""
    return {**response(), "output": list(calls) or [function_call()]}


def call_events(fragments: tuple[str, ...] = ('{"city": ', '"Paris"}')) -> list[Json]:
    """A forced call's events: the item added, the argument deltas, arguments done, item done."""
    arguments = "".join(fragments)
    start = {**response(), "status": "in_progress", "output": [], "usage": None, "completed_at": None}
    where = {"item_id": "fc_1", "output_index": 0}
    out: list[Json] = [
        {"type": "response.created", "response": start},
        {"type": "response.in_progress", "response": start},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": function_call("", status="in_progress"),
        },
        *({"type": "response.function_call_arguments.delta", **where, "delta": f} for f in fragments),
        {
            "type": "response.function_call_arguments.done",
            **where,
            "name": "get_weather",
            "arguments": arguments,
        },
        {"type": "response.output_item.done", "output_index": 0, "item": function_call(arguments)},
        {"type": "response.completed", "response": called(function_call(arguments))},
    ]
    return [{**e, "sequence_number": i} for i, e in enumerate(out)]
