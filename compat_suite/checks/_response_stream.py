"""Reading a Responses event stream and the Response object, for the `responses.*` checks.

A Responses stream is a sequence of typed events (`event: <type>` and `data: {"type": ...}`); the
helpers here turn a `StreamExchange` into its events, and follow the items and content parts those
events open, write and close, so that each check states one rule over them. The Response object's
own rules (its status, its input items, its function calls) are listed here as problems too; the
stream's grammar is `_response_grammar`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..exchange import Exchange, StreamExchange
from . import _common as c
from . import _tools_reading as tr
from ._registry import Finding

Json = dict[str, Any]
TERMINAL = ("response.completed", "response.incomplete", "response.failed")
STATUS_OF_TERMINAL = {"response.completed": "completed", "response.incomplete": "incomplete",
                      "response.failed": "failed"}  # fmt: skip
ITEM_EVENTS = ("response.output_item.added", "response.output_item.done")
PART_EVENTS = ("response.content_part.added", "response.content_part.done")
TEXT_EVENTS = ("response.output_text.delta", "response.output_text.done")
ARGUMENT_EVENTS = ("response.function_call_arguments.delta", "response.function_call_arguments.done")


@dataclass(frozen=True)
class Event:
    """One event of the stream: its position among data events, its SSE name and its JSON."""

    position: int
    name: str | None
    data: Any

    @property
    def type(self) -> str | None:
        kind = self.data.get("type") if isinstance(self.data, dict) else None
        return kind if isinstance(kind, str) else None

    def get(self, key: str) -> Any:
        return self.data.get(key) if isinstance(self.data, dict) else None

    def ref(self) -> Json:
        return {"position": self.position, "event": self.name, "data": c.short(self.data, 600)}


def stream(exchange: Exchange) -> StreamExchange:
    if not isinstance(exchange, StreamExchange):
        raise Finding("not a streamed exchange (no events were read)", c.evidence(exchange))
    return exchange


def events(exchange: Exchange) -> list[Event]:
    """The stream's events whose data is a JSON object (others are stream.sse.json-data's), or a
    Finding when there are none."""
    s = stream(exchange)
    found = [
        Event(position, event.event, data)
        for position, (event, data) in enumerate(zip(s.data_events, s.chunks, strict=False))
        if isinstance(data, dict)
    ]
    if not found:
        why = f" (transport error: {s.transport_error})" if s.transport_error else ""
        raise Finding(
            f"no JSON events in the stream (status {s.status}){why}", c.evidence(s, events=len(s.events))
        )
    return found


def is_error(event: Event) -> bool:
    """An error reported inside the stream: the `error` event, or a chat-style `{"error": ...}`."""
    return event.type == "error" or event.name == "error" or ("error" in event.data and event.type is None)


def expect_events_valid(exchange: Exchange, component: str, *, errors: bool) -> None:
    """The stream's error events (`errors`) or its other events each validate against `component`."""
    for event in events(exchange):
        if is_error(event) != errors:
            continue
        try:
            c.schema_check(exchange, component, event.data)
        except Finding as finding:
            label = "error event" if errors else "event"
            raise Finding(
                f"{label} {event.position}: {finding.message}", {**finding.evidence, **event.ref()}
            ) from None


def index(value: Any) -> int | None:
    return value if c.is_int(value) else None


@dataclass
class Part:
    """One content part of a message item, as the events wrote it."""

    added: Json | None = None
    deltas: list[str] = field(default_factory=list)
    text_done: Event | None = None
    done: Event | None = None

    @property
    def streamed(self) -> str:
        return "".join(self.deltas)


@dataclass
class Item:
    """One output item, as the events opened, wrote and closed it."""

    output_index: int
    added: Event
    parts: dict[int, Part] = field(default_factory=dict)
    argument_deltas: list[str] = field(default_factory=list)
    arguments_done: Event | None = None
    done: Event | None = None

    @property
    def item(self) -> Json:
        value = self.added.get("item")
        return value if isinstance(value, dict) else {}

    @property
    def final(self) -> Json:
        """The item as `output_item.done` gave it (as added, when it never closed)."""
        value = self.done.get("item") if self.done is not None else None
        return value if isinstance(value, dict) else self.item


def items(found: list[Event]) -> dict[int, Item]:
    """The output items the events opened, by output_index, with what each event wrote into them
    (events that name no opened item, or an index already taken, are left to the checks that judge
    indices)."""
    out: dict[int, Item] = {}
    for event in found:
        oi = index(event.get("output_index"))
        if event.type == "response.output_item.added":
            if oi is not None and oi not in out:
                out[oi] = Item(oi, event)
            continue
        item = out.get(oi) if oi is not None else None
        if item is None:
            continue
        ci = index(event.get("content_index"))
        if event.type == "response.output_item.done":
            item.done = item.done or event
        elif event.type == "response.content_part.added" and ci is not None:
            item.parts.setdefault(ci, Part(added=event.data))
        elif event.type in (*TEXT_EVENTS, "response.content_part.done") and ci is not None:
            part = item.parts.setdefault(ci, Part())
            if event.type == "response.output_text.delta":
                delta = event.get("delta")
                part.deltas.append(delta if isinstance(delta, str) else "")
            elif event.type == "response.output_text.done":
                part.text_done = part.text_done or event
            else:
                part.done = part.done or event
        elif event.type == "response.function_call_arguments.delta":
            delta = event.get("delta")
            item.argument_deltas.append(delta if isinstance(delta, str) else "")
        elif event.type == "response.function_call_arguments.done":
            item.arguments_done = item.arguments_done or event
    return out


def terminal(found: list[Event]) -> Event | None:
    return next((e for e in found if e.type in TERMINAL), None)


def response_of(event: Event | None) -> Json:
    value = event.get("response") if event is not None else None
    return value if isinstance(value, dict) else {}


# -- the Response object ------------------------------------------------------------------------------
def output_items(response: Json) -> list[Json]:
    found = response.get("output")
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def text_of_message(item: Json) -> str:
    """The `output_text` parts of one message item, joined."""
    content = item.get("content")
    parts = content if isinstance(content, list) else []
    return "".join(
        p["text"]
        for p in parts
        if isinstance(p, dict) and p.get("type") == "output_text" and isinstance(p.get("text"), str)
    )


def output_text(response: Json) -> str:
    """The text of every message item's `output_text` parts, joined in order (what the SDKs' own
    `output_text` computes)."""
    return "".join(text_of_message(item) for item in output_items(response) if item.get("type") == "message")


def input_items_problems(page: Json, sent: Any) -> list[str]:
    """Where a list page of input_items (its `data` a list) differs from the `input` a request sent:
    the items in order, whatever their spelling, each with an id, and first_id and last_id its ends."""
    data = page["data"]
    expected = [_item_summary(i) for i in _sent_items(sent)]
    got = [_item_summary(i) if isinstance(i, dict) else i for i in data]
    problems = []
    if got != expected:
        problems.append(f"items {c.short(got, 300)}, sent {c.short(expected, 300)}")
    ids = [i.get("id") if isinstance(i, dict) else None for i in data]
    if not all(isinstance(i, str) and i for i in ids):
        problems.append(f"item ids {ids}")
    elif ids and (page.get("first_id"), page.get("last_id")) != (ids[0], ids[-1]):
        problems.append(
            f"first_id/last_id {page.get('first_id')}/{page.get('last_id')}, items {ids[0]}..{ids[-1]}"
        )
    return problems


def _sent_items(value: Any) -> list[Any]:
    return (
        [{"role": "user", "content": value}]
        if isinstance(value, str)
        else value
        if isinstance(value, list)
        else []
    )


def _item_summary(item: Any) -> Any:
    """What an input item says, whatever its spelling (string content or parts; `type` left out)."""
    if not isinstance(item, dict):
        return item
    kind = item.get("type", "message")
    if kind == "message":
        content = item.get("content")
        parts = (
            [{"text": content}] if isinstance(content, str) else content if isinstance(content, list) else []
        )
        text = "".join(
            p.get("text", "") for p in parts if isinstance(p, dict) and isinstance(p.get("text", ""), str)
        )
        return {"type": kind, "role": item.get("role"), "text": text}
    keys = ("call_id", "name", "arguments") if kind == "function_call" else ("call_id", "output")
    return {"type": kind, **{k: item.get(k) for k in keys}}


def status_problem(payload: Json) -> str | None:
    """Where a Response's `status` disagrees with its incomplete_details and error: `incomplete` exactly
    when incomplete_details gives a reason, `failed` exactly with an error."""
    status, details, error = payload.get("status"), payload.get("incomplete_details"), payload.get("error")
    reason = details.get("reason") if isinstance(details, dict) else None
    if status not in ("completed", "incomplete", "failed", "in_progress", "queued", "cancelled"):
        return f"`status` is {c.short(status)}"
    if (status == "incomplete") != (reason is not None):
        return f"`status` {status!r} with incomplete_details {c.short(details)}"
    if (status == "failed") != (error is not None):
        return f"`status` {status!r} with error {c.short(error)}"
    return None


def not_said_incomplete(payload: Json, limit: int | None) -> str | None:
    """What is wrong with a Response whose output reached `limit` (max_output_tokens) but that does not
    say `incomplete` for that reason; None when the limit was not reached, or no count says so."""
    counts = usage_counts(payload)
    if limit is None or counts is None or counts[1] < limit:
        return None  # no limit, no count (usage.present's failure) or not reached
    details = payload.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    if payload.get("status") == "incomplete" and reason == "max_output_tokens":
        return None
    return (
        f"{counts[1]} output tokens reached max_output_tokens={limit}, but `status` is"
        f" {c.short(payload.get('status'))} with incomplete_details {c.short(details)}"
    )


def usage_counts(payload: Json) -> tuple[int, int] | None:
    """(input_tokens, output_tokens) where usage states both as integers."""
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    counts = usage.get("input_tokens"), usage.get("output_tokens")
    return (counts[0], counts[1]) if all(c.is_int(n) for n in counts) else None


def final_response(exchange: Exchange) -> Json:
    """The Response an exchange ends with: the body, or a stream's terminal event's response."""
    if isinstance(exchange, StreamExchange):
        return response_of(terminal(events(exchange)))
    return c.body(exchange)


def declared_tools(request: Json) -> dict[str, Any]:
    """The request's function tools (the Responses API's flat shape): name -> its `parameters`."""
    tools = request.get("tools")
    return {
        t["name"]: t.get("parameters")
        for t in tools if isinstance(t, dict) and isinstance(t.get("name"), str)
    } if isinstance(tools, list) else {}  # fmt: skip


def function_call_problems(payload: Json, tools: dict[str, Any]) -> list[str]:
    """Where a Response's function_call items break the rules: a call_id empty or repeated, a name not
    among the declared `tools`, arguments not valid against the tool's parameters (unless the token
    limit cut the call)."""
    problems, seen = [], set()
    for k, item in enumerate(output_items(payload)):
        if item.get("type") != "function_call":
            continue
        call_id, name = item.get("call_id"), item.get("name")
        if not tr.non_empty(call_id) or call_id in seen:
            problems.append(f"output[{k}]: call_id {c.short(call_id)} is empty or repeated")
        seen.add(call_id)
        if name not in tools:
            problems.append(f"output[{k}]: {c.short(name)} is not one of the tools {sorted(tools)}")
        elif item.get("status") != "incomplete":
            problem = tr.argument_problem(item.get("arguments"), tools[name])
            if problem:
                problems.append(f"output[{k}]: {problem}")
    return problems
