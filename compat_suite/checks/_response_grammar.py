"""The rules a Responses event stream keeps, each as a list of the places that break it: the
lifecycle's order, the indices, and the pieces adding up to what later events and the final response
say (read by `_response_stream`; judged by the `responses.stream.*` checks)."""

from __future__ import annotations

from typing import Any

from . import _common as c
from ._response_stream import (
    ARGUMENT_EVENTS,
    STATUS_OF_TERMINAL,
    TERMINAL,
    TEXT_EVENTS,
    Event,
    index,
    items,
    output_items,
    response_of,
    terminal,
)


# -- the lifecycle and the indices --------------------------------------------------------------------------------------
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


# -- what adds up --------------------------------------------------------------------------------------
def text_problems(found: list[Event]) -> list[str]:
    """Where a text part's deltas do not join to the text a later event gives for that part: its
    output_text.done text, its content_part.done part, its item at output_item.done or the terminal
    response's."""
    final = output_items(response_of(terminal(found)))
    problems = []
    for oi, item in sorted(items(found).items()):
        for ci, part in sorted(item.parts.items()):
            streamed = part.streamed
            done_part = part.done.get("part") if part.done is not None else None
            content = item.final.get("content")
            final_content = final[oi].get("content") if oi < len(final) else None
            versions = {
                "output_text.done": part.text_done.get("text") if part.text_done is not None else None,
                "content_part.done": done_part.get("text") if isinstance(done_part, dict) else None,
                "output_item.done": _part_text(content, ci) if item.done is not None else None,
                "the terminal response": _part_text(final_content, ci),
            }
            for where, text in versions.items():
                if text is not None and text != streamed:
                    problems.append(
                        f"item {oi} part {ci}: deltas join to {c.short(streamed)}, {where} says {c.short(text)}"
                    )
    return problems


def _part_text(content: Any, ci: int) -> str | None:
    if not isinstance(content, list) or ci >= len(content) or not isinstance(content[ci], dict):
        return None
    text = content[ci].get("text")
    return text if isinstance(text, str) else None


def argument_problems(found: list[Event]) -> list[str]:
    """Where a function call's argument deltas do not join to function_call_arguments.done, the item at
    output_item.done or the terminal response's item, or the done event names another function."""
    final = output_items(response_of(terminal(found)))
    problems = []
    for oi, item in sorted(items(found).items()):
        if item.item.get("type") != "function_call":
            continue
        streamed = "".join(item.argument_deltas)
        done = item.arguments_done
        versions = {
            "function_call_arguments.done": done.get("arguments") if done is not None else None,
            "output_item.done": item.final.get("arguments") if item.done is not None else None,
            "the terminal response": final[oi].get("arguments") if oi < len(final) else None,
        }
        for where, text in versions.items():
            if text is not None and text != streamed:
                problems.append(
                    f"call {oi}: deltas join to {c.short(streamed)}, {where} says {c.short(text)}"
                )
        if done is not None and done.get("name") not in (None, item.final.get("name")):
            problems.append(
                f"call {oi}: arguments.done names {c.short(done.get('name'))}, the item {c.short(item.final.get('name'))}"
            )
    return problems


def final_response_problems(found: list[Event], end: Event) -> list[str]:
    """Where the terminal event `end` does not carry the created response: its id, the status its type
    names, usage, and as output exactly the items the stream finished, in order."""
    created = response_of(found[0]) if found[0].type == "response.created" else {}
    final = response_of(end)
    problems = []
    if created and final.get("id") != created.get("id"):
        problems.append(
            f"id {c.short(final.get('id'))} is not the created response's {c.short(created.get('id'))}"
        )
    if final.get("status") != STATUS_OF_TERMINAL[end.type or ""]:
        problems.append(f"{end.type} carries status {c.short(final.get('status'))}")
    if end.type != "response.failed" and not isinstance(final.get("usage"), dict):
        problems.append(f"{end.type} carries no usage")
    streamed = [(item.final.get("type"), item.final.get("id")) for _, item in sorted(items(found).items())]
    ended = [(item.get("type"), item.get("id")) for item in output_items(final)]
    if end.type != "response.failed" and streamed != ended:
        problems.append(f"output {c.short(ended, 200)} is not the streamed items {c.short(streamed, 200)}")
    return problems
