"""Reading a Responses event stream and the Response object, for the `responses.*` checks.

A Responses stream is a sequence of typed events (`event: <type>` and `data: {"type": ...}`); the
helpers here turn a `StreamExchange` into its events, and follow the items and content parts those
events open, write and close, so that each check states one rule over them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..exchange import Exchange, StreamExchange
from . import _common as c
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


def usage_counts(payload: Json) -> tuple[int, int] | None:
    """(input_tokens, output_tokens) where usage states both as integers."""
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    counts = usage.get("input_tokens"), usage.get("output_tokens")
    return (counts[0], counts[1]) if all(c.is_int(n) for n in counts) else None


# -- the grammar --------------------------------------------------------------------------------------
def lifecycle_problems(found: list[Event]) -> list[str]:
    """Where the events break the Responses lifecycle: created, in_progress, each item added before
    its parts and done after them, each part added, written (text done) and done in turn, function
    arguments done before their item, then one terminal event last (an `error` may end it instead).
    Events naming no opened item are the indices check's, events of other types are not judged."""
    problems: list[str] = []
    kinds = [e.type for e in found]
    if kinds[:1] != ["response.created"]:
        problems.append(f"the first event is {kinds[0]!r}, not 'response.created'")
    if kinds[1:2] != ["response.in_progress"]:
        problems.append(
            f"the second event is {kinds[1] if len(kinds) > 1 else None!r}, not 'response.in_progress'"
        )
    ends = [i for i, kind in enumerate(kinds) if kind in TERMINAL]
    if len(ends) > 1:
        problems.append(f"{len(ends)} terminal events (events {ends}); a response ends once")
    last = len(kinds) - 1
    if ends and ends[0] != last:
        problems.append(
            f"event {found[ends[0]].position} ({kinds[ends[0]]}) is followed by {last - ends[0]} more"
        )
    if not ends and kinds[-1] != "error":
        problems.append(f"no terminal event ({', '.join(TERMINAL)}); the stream ends with {kinds[-1]!r}")
    opened: dict[int, str] = {}  # output_index -> "open" | "done"
    parts: dict[tuple[int, int], str] = {}  # (output_index, content_index) -> "open" | "text-done" | "done"
    arguments_done: set[int] = set()
    for event in found:
        kind, oi, ci = event.type, index(event.get("output_index")), index(event.get("content_index"))
        where = f"event {event.position} ({kind})"
        if kind == "response.output_item.added":
            if oi is not None and oi not in opened:
                opened[oi] = "open"
            continue
        if kind in TERMINAL:
            unfinished = sorted(i for i, state in opened.items() if state != "done")
            if unfinished:
                problems.append(f"{where} ends the response while items {unfinished} are not done")
            continue
        if oi is None or oi not in opened or not kind or not kind.startswith("response."):
            continue
        if opened[oi] == "done":
            problems.append(f"{where} comes after output_item.done of item {oi}")
            continue
        part_state = parts.get((oi, ci)) if ci is not None else None
        if kind == "response.content_part.added" and ci is not None:
            if part_state is not None:
                problems.append(f"{where}: part {ci} of item {oi} was added already")
            parts[(oi, ci)] = "open"
        elif kind in TEXT_EVENTS and ci is not None:
            if part_state != "open":
                state = "not added" if part_state is None else part_state
                problems.append(f"{where} for part {ci} of item {oi}, which is {state}")
            elif kind == "response.output_text.done":
                parts[(oi, ci)] = "text-done"
        elif kind == "response.content_part.done" and ci is not None:
            part = event.get("part")
            text_part = isinstance(part, dict) and part.get("type") == "output_text"
            if part_state is None or part_state == "done" or (text_part and part_state != "text-done"):
                state = "not added" if part_state is None else part_state
                problems.append(
                    f"{where} for part {ci} of item {oi}, which is {state} (no output_text.done first)"
                )
            parts[(oi, ci)] = "done"
        elif kind in ARGUMENT_EVENTS:
            if oi in arguments_done:
                problems.append(f"{where} after the arguments of item {oi} were done")
            if kind == "response.function_call_arguments.done":
                arguments_done.add(oi)
        elif kind == "response.output_item.done":
            open_parts = sorted(k for (i, k), state in parts.items() if i == oi and state != "done")
            if open_parts:
                problems.append(f"{where} while parts {open_parts} of item {oi} are not done")
            item = event.get("item")
            if isinstance(item, dict) and item.get("type") == "function_call" and oi not in arguments_done:
                problems.append(f"{where}: function call {oi} is done without function_call_arguments.done")
            opened[oi] = "done"
    return problems


def index_problems(found: list[Event]) -> list[str]:
    """Where `output_index`, `content_index` and `item_id` disagree with the items and parts the
    events opened: items take the indices 0, 1, 2... in order, every event names an opened item and
    that item's id, and parts take 0, 1, 2... within their item."""
    problems: list[str] = []
    ids: dict[int, Any] = {}
    part_counts: dict[int, int] = {}
    for event in found:
        kind = event.type
        if not kind or not kind.startswith("response.") or "output_index" not in event.data:
            continue
        where = f"event {event.position} ({kind})"
        oi = index(event.get("output_index"))
        if oi is None:
            problems.append(f"{where}: output_index is {c.short(event.get('output_index'))}")
            continue
        if kind == "response.output_item.added":
            if oi != len(ids):
                problems.append(f"{where}: output_index {oi}, expected {len(ids)} (the next item)")
            item = event.get("item")
            ids.setdefault(oi, item.get("id") if isinstance(item, dict) else None)
            continue
        if oi not in ids:
            problems.append(f"{where}: output_index {oi} names no item added before it")
            continue
        item_id = event.get("item_id")
        if "item_id" in event.data and item_id != ids[oi]:
            problems.append(f"{where}: item_id {c.short(item_id)}, but item {oi} is {c.short(ids[oi])}")
        done_item = event.get("item")
        if (
            kind == "response.output_item.done"
            and isinstance(done_item, dict)
            and done_item.get("id") != ids[oi]
        ):
            problems.append(
                f"{where}: the done item's id {c.short(done_item.get('id'))} is not {c.short(ids[oi])}"
            )
        if "content_index" in event.data:
            ci = index(event.get("content_index"))
            count = part_counts.get(oi, 0)
            if kind == "response.content_part.added":
                if ci != count:
                    problems.append(f"{where}: content_index {c.short(ci)}, expected {count} (the next part)")
                part_counts[oi] = count + 1
            elif ci is None or not 0 <= ci < count:
                problems.append(
                    f"{where}: content_index {c.short(event.get('content_index'))} names no part of item {oi}"
                )
    return problems


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
