"""Checks of the Responses API (`POST /responses`, streamed or not, and the stored response routes).

Unary: the Response object's shape and fields, its status, usage and limits. Stream: the event
grammar, in order, with the pieces adding up to the final response (the strict reader in
compat_suite/sse.py keeps each event's `event:` line; `_response_stream` follows items and parts).
State: retrieve, input_items, delete, `store`, `previous_response_id`. Parameter effect: a parameter
is honoured or refused with a 400 naming it, never silently ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..exchange import Exchange
from . import _common as c
from . import _response_stream as rs
from . import _tools_reading as tr
from ._registry import MUST, SHOULD, Finding, check

ENDPOINTS = ("responses",)
Json = dict[str, Any]
ID_PREFIX = "resp_"


def _problems(exchange: Exchange, found: list[str], what: str) -> None:
    if found:
        raise Finding(f"{what}: {found[0]}" + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""),
                      c.evidence(exchange, problems=found[:10]))  # fmt: skip


# -- the Response object ---------------------------------------------------------------------------------
@check("responses.response.schema", severity=MUST, endpoints=ENDPOINTS)
def response_schema(exchange: Exchange) -> None:
    """The body validates against Response."""
    c.schema_check(exchange, "Response", c.body(exchange))


@check("responses.response.object", severity=MUST, endpoints=ENDPOINTS)
def response_object(exchange: Exchange) -> None:
    """`object` is "response"."""
    c.expect_object(exchange, "response")


@check("responses.response.id", severity=MUST, endpoints=ENDPOINTS)
def response_id(exchange: Exchange, *others: Exchange) -> None:
    """`id` is a non-empty string, and two responses never share one."""
    ids = []
    for answer in (exchange, *others):
        c.expect_id(answer)
        ids.append(c.body(answer)["id"])
    if len(set(ids)) < len(ids):
        raise Finding(f"{len(ids)} responses share ids: {ids}", c.evidence(exchange, ids=ids))


@check("responses.response.id-prefix", severity=SHOULD, endpoints=ENDPOINTS)
def response_id_prefix(exchange: Exchange) -> None:
    """`id` starts with "resp_", as OpenAI's do (clients and logs tell ids apart by prefix)."""
    value = c.body(exchange).get("id")
    if isinstance(value, str) and not value.startswith(ID_PREFIX):
        raise Finding(f"`id` {value!r} does not start with {ID_PREFIX!r}", c.evidence(exchange, id=value))


@check("responses.response.created-at", severity=MUST, endpoints=ENDPOINTS)
def response_created_at(exchange: Exchange) -> None:
    """`created_at` is a plausible Unix time in seconds (not milliseconds, not a string)."""
    value = c.body(exchange).get("created_at")
    if not c.is_number(value) or not c.CREATED_MIN <= value < c.CREATED_MAX:
        hint = " (milliseconds?)" if c.is_number(value) and value >= c.CREATED_MAX else ""
        raise Finding(f"`created_at` is {c.short(value)}, not Unix seconds{hint}", c.evidence(exchange))


@check("responses.response.status", severity=MUST, endpoints=ENDPOINTS)
def response_status(exchange: Exchange) -> None:
    """`status` agrees with incomplete_details and error (incomplete iff a reason, failed iff an error).

    `incomplete` exactly when `incomplete_details` gives a reason, `failed` with an `error`,
    `completed` with neither."""
    payload = c.body(exchange)
    status, details, error = payload.get("status"), payload.get("incomplete_details"), payload.get("error")
    reason = details.get("reason") if isinstance(details, dict) else None
    problem = None
    if status not in ("completed", "incomplete", "failed", "in_progress", "queued", "cancelled"):
        problem = f"`status` is {c.short(status)}"
    elif (status == "incomplete") != (reason is not None):
        problem = f"`status` {status!r} with incomplete_details {c.short(details)}"
    elif (status == "failed") != (error is not None):
        problem = f"`status` {status!r} with error {c.short(error)}"
    if problem:
        raise Finding(problem, c.evidence(exchange, status=status, incomplete_details=details, error=error))


@check("responses.incomplete.max-output-tokens", severity=MUST, endpoints=ENDPOINTS)
def incomplete_max_output_tokens(exchange: Exchange) -> None:
    """An answer that used all of `max_output_tokens` is `incomplete` (reason "max_output_tokens").

    The scenario asks for more text than the limit allows; an answer whose natural end fell exactly on
    the limit would be misjudged, which that prompt makes impossible."""
    limit = c.token_limit(c.request_body(exchange), "max_output_tokens")
    payload = c.body(exchange)
    counts = rs.usage_counts(payload)
    if limit is None or counts is None or counts[1] < limit:
        return  # no limit, no count (usage.present's failure) or not reached
    details = payload.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    if payload.get("status") != "incomplete" or reason != "max_output_tokens":
        raise Finding(
            f"{counts[1]} output tokens reached max_output_tokens={limit}, but `status` is"
            f" {c.short(payload.get('status'))} with incomplete_details {c.short(details)}",
            c.evidence(exchange, limit=limit),
        )


@check("responses.output-text.joined", severity=MUST, endpoints=ENDPOINTS)
def output_text_joined(exchange: Exchange) -> None:
    """`output_text`, where a server sends it, is the text of the message items' output_text parts, joined."""
    payload = c.body(exchange)
    sent = payload.get("output_text")
    if sent is None:
        return  # an SDK convenience OpenAI does not send
    joined = rs.output_text(payload)
    if sent != joined:
        raise Finding(
            "`output_text` is not the joined output text",
            c.evidence(exchange, output_text=sent, joined=joined),
        )


@check("responses.usage.present", severity=MUST, endpoints=ENDPOINTS)
def usage_present(exchange: Exchange) -> None:
    """`usage` reports input, output and total tokens as non-negative integers."""
    c.expect_usage(exchange, ("input_tokens", "output_tokens", "total_tokens"))


@check("responses.usage.sum", severity=MUST, endpoints=ENDPOINTS)
def usage_sum(exchange: Exchange) -> None:
    """`usage.total_tokens` equals input_tokens + output_tokens."""
    usage = c.body(exchange).get("usage")
    if not isinstance(usage, dict):
        return  # usage.present's failure
    parts = usage.get("input_tokens"), usage.get("output_tokens"), usage.get("total_tokens")
    if all(c.is_int(p) for p in parts) and parts[0] + parts[1] != parts[2]:
        raise Finding(
            f"total_tokens {parts[2]} != input {parts[0]} + output {parts[1]}", c.evidence(exchange)
        )


@check("responses.max-output-tokens.respected", severity=MUST, endpoints=ENDPOINTS)
def max_output_tokens_respected(exchange: Exchange) -> None:
    """`usage.output_tokens` is at most `max_output_tokens`."""
    limit = c.token_limit(c.request_body(exchange), "max_output_tokens")
    counts = rs.usage_counts(c.body(exchange))
    if limit is not None and counts is not None and counts[1] > limit:
        raise Finding(f"output_tokens {counts[1]} exceeds max_output_tokens={limit}", c.evidence(exchange))


# -- the stream -------------------------------------------------------------------------------------------
@check("responses.stream.default-off", severity=MUST, endpoints=ENDPOINTS)
def stream_default_off(exchange: Exchange) -> None:
    """A request that leaves `stream` out gets one JSON Response, not an event stream (default false)."""
    if "stream" in c.request_body(exchange):
        return  # asked for explicitly
    streamed = c.media_type(exchange) == "text/event-stream" or exchange.body.lstrip().startswith(
        (b"data:", b"event:")
    )
    if streamed:
        raise Finding(
            f"no `stream` in the request, yet the answer is an event stream ({exchange.content_type!r});"
            " `stream` defaults to false",
            c.evidence(exchange),
        )


@check("responses.stream.event-schema", severity=MUST, endpoints=ENDPOINTS)
def stream_event_schema(exchange: Exchange) -> None:
    """Every event validates against ResponseStreamEvent (error events are judged by stream.error-event)."""
    for event in rs.events(exchange):
        if rs.is_error(event):
            continue
        try:
            c.schema_check(exchange, "ResponseStreamEvent", event.data)
        except Finding as finding:
            raise Finding(
                f"event {event.position}: {finding.message}", {**finding.evidence, **event.ref()}
            ) from None


@check("responses.stream.event-type", severity=MUST, endpoints=ENDPOINTS)
def stream_event_type(exchange: Exchange) -> None:
    """Every event's SSE `event:` line names the `type` its data carries."""
    for event in rs.events(exchange):
        if event.name != event.type:
            raise Finding(
                f"event {event.position}: `event: {event.name}` but data type {c.short(event.type)}",
                c.evidence(exchange, **event.ref()),
            )


@check("responses.stream.sequence", severity=MUST, endpoints=ENDPOINTS)
def stream_sequence(exchange: Exchange) -> None:
    """Every event has an integer `sequence_number`, strictly increasing from the first event."""
    previous = None
    for event in rs.events(exchange):
        number = event.get("sequence_number")
        if not c.is_int(number) or (previous is not None and number <= previous):
            raise Finding(
                f"event {event.position}: sequence_number {c.short(number)} after {previous}",
                c.evidence(exchange, **event.ref()),
            )
        previous = number


@check("responses.stream.lifecycle", severity=MUST, endpoints=ENDPOINTS)
def stream_lifecycle(exchange: Exchange) -> None:
    """Events come in the documented order, from response.created to one terminal event.

    created, in_progress, per item added -> parts (added, deltas, text done, part done) -> done, then
    one terminal event (completed, incomplete or failed) last."""
    _problems(exchange, rs.lifecycle_problems(rs.events(exchange)), "the event order is broken")


@check("responses.stream.indices", severity=MUST, endpoints=ENDPOINTS)
def stream_indices(exchange: Exchange) -> None:
    """`output_index`, `content_index` and `item_id` stay consistent with the items and parts opened."""
    _problems(exchange, rs.index_problems(rs.events(exchange)), "inconsistent indices")


@check("responses.stream.text-adds-up", severity=MUST, endpoints=ENDPOINTS)
def stream_text_adds_up(exchange: Exchange) -> None:
    """Each text part's deltas join to the text every later event gives for that part.

    That is its output_text.done text, its content_part.done part, its item's text at
    output_item.done and the terminal response's."""
    found = rs.events(exchange)
    final = rs.output_items(rs.response_of(rs.terminal(found)))
    problems = []
    for oi, item in sorted(rs.items(found).items()):
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
    _problems(exchange, problems, "the text does not add up")


def _part_text(content: Any, ci: int) -> str | None:
    if not isinstance(content, list) or ci >= len(content) or not isinstance(content[ci], dict):
        return None
    text = content[ci].get("text")
    return text if isinstance(text, str) else None


@check("responses.stream.arguments-add-up", severity=MUST, endpoints=ENDPOINTS)
def stream_arguments_add_up(exchange: Exchange) -> None:
    """Each function call's argument deltas join to function_call_arguments.done, the item at
    output_item.done and the terminal response's item, and the done event names the item's function."""
    found = rs.events(exchange)
    final = rs.output_items(rs.response_of(rs.terminal(found)))
    problems = []
    for oi, item in sorted(rs.items(found).items()):
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
    _problems(exchange, problems, "the arguments do not add up")


@check("responses.stream.final-response", severity=MUST, endpoints=ENDPOINTS)
def stream_final_response(exchange: Exchange) -> None:
    """The terminal event carries the created response, with its status, usage and the streamed items.

    Same id as `response.created`, the status its type names, usage, and as output exactly the items
    the stream finished, in order."""
    found = rs.events(exchange)
    end = rs.terminal(found)
    if end is None:
        return  # stream.lifecycle's failure
    created = rs.response_of(found[0]) if found[0].type == "response.created" else {}
    final = rs.response_of(end)
    problems = []
    if created and final.get("id") != created.get("id"):
        problems.append(
            f"id {c.short(final.get('id'))} is not the created response's {c.short(created.get('id'))}"
        )
    if final.get("status") != rs.STATUS_OF_TERMINAL[end.type or ""]:
        problems.append(f"{end.type} carries status {c.short(final.get('status'))}")
    if end.type != "response.failed" and not isinstance(final.get("usage"), dict):
        problems.append(f"{end.type} carries no usage")
    streamed = [(item.final.get("type"), item.final.get("id")) for _, item in sorted(rs.items(found).items())]
    ended = [(item.get("type"), item.get("id")) for item in rs.output_items(final)]
    if end.type != "response.failed" and streamed != ended:
        problems.append(f"output {c.short(ended, 200)} is not the streamed items {c.short(streamed, 200)}")
    _problems(exchange, problems, f"the final response ({end.type})")


@check("responses.stream.matches-unary", severity=SHOULD, endpoints=ENDPOINTS)
def stream_matches_unary(stream_exchange: Exchange, unary_exchange: Exchange) -> None:
    """At temperature 0 the streamed response's text equals the unary answer's to the same request."""
    streamed = rs.output_text(rs.response_of(rs.terminal(rs.events(stream_exchange))))
    unary = rs.output_text(c.body(unary_exchange))
    c.expect_stream_matches_unary(
        "the streamed text differs from the unary answer",
        streamed,
        unary,
        stream=stream_exchange,
        unary_exchange=unary_exchange,
    )


@check("responses.stream.error-event", severity=MUST, endpoints=ENDPOINTS)
def stream_error_event(exchange: Exchange) -> None:
    """An error inside a started stream is an `error` event with the documented shape.

    type, code, message, param and sequence_number; not a chat-style `{"error": {...}}` or a bare string."""
    for event in rs.events(exchange):
        if not rs.is_error(event):
            continue
        try:
            c.schema_check(exchange, "ResponseErrorEvent", event.data)
        except Finding as finding:
            raise Finding(
                f"error event {event.position}: {finding.message}", {**finding.evidence, **event.ref()}
            ) from None


# -- stored responses and conversation state ----------------------------------------------------------------
@check("responses.retrieve.same", severity=MUST, endpoints=ENDPOINTS)
def retrieve_same(created: Exchange, retrieved: Exchange) -> None:
    """GET /responses/{id} returns the response as it was created (every field it was created with)."""
    original, stored = c.body(created), c.body(retrieved)
    differ = sorted(k for k in original if stored.get(k, KeyError) != original[k])
    if differ:
        raise Finding(
            f"the retrieved response differs in {differ}",
            {"created": c.evidence(created), "retrieved": c.evidence(retrieved), "fields": differ},
        )


@check("responses.input-items.schema", severity=MUST, endpoints=ENDPOINTS)
def input_items_schema(exchange: Exchange) -> None:
    """GET /responses/{id}/input_items answers a page that validates against ResponseItemList."""
    c.schema_check(exchange, "ResponseItemList", c.body(exchange))


@check("responses.input-items.listed", severity=MUST, endpoints=ENDPOINTS)
def input_items_listed(created: Exchange, listed: Exchange) -> None:
    """GET /responses/{id}/input_items?order=asc lists the request's input items, in order, with ids.

    A list page whose first_id and last_id name its ends."""
    payload = c.body(listed)
    data = payload.get("data")
    if payload.get("object") != "list" or not isinstance(data, list):
        raise Finding(f"not a list page: object {c.short(payload.get('object'))}", c.evidence(listed))
    expected = [_item_summary(i) for i in _sent_items(c.request_body(created).get("input"))]
    got = [_item_summary(i) if isinstance(i, dict) else i for i in data]
    problems = []
    if got != expected:
        problems.append(f"items {c.short(got, 300)}, sent {c.short(expected, 300)}")
    ids = [i.get("id") if isinstance(i, dict) else None for i in data]
    if not all(isinstance(i, str) and i for i in ids):
        problems.append(f"item ids {ids}")
    elif ids and (payload.get("first_id"), payload.get("last_id")) != (ids[0], ids[-1]):
        problems.append(
            f"first_id/last_id {payload.get('first_id')}/{payload.get('last_id')}, items {ids[0]}..{ids[-1]}"
        )
    _problems(listed, problems, "input_items")


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


@check("responses.delete.removes", severity=MUST, endpoints=ENDPOINTS)
def delete_removes(deleted: Exchange, *, retrieved_after: Exchange) -> None:
    """DELETE /responses/{id} succeeds, and the response is gone: GET answers 404."""
    if not (deleted.status and 200 <= deleted.status < 300):
        raise Finding(f"DELETE answered {deleted.status}", c.evidence(deleted))
    said = deleted.json.get("deleted", True) if isinstance(deleted.json, dict) else True
    if said is not True:
        raise Finding(f"DELETE answered deleted: {c.short(said)}", c.evidence(deleted))
    if retrieved_after.status != 404:
        raise Finding(
            f"GET after DELETE answered {retrieved_after.status}, not 404", c.evidence(retrieved_after)
        )


@check("responses.store.honoured", severity=MUST, endpoints=ENDPOINTS)
def store_honoured(created: Exchange, *, retrieved: Exchange) -> None:
    """A response created with `store: false` is not stored: GET /responses/{id} answers 404."""
    if c.request_body(created).get("store") is not False:
        return  # stored on purpose
    if retrieved.status != 404:
        raise Finding(
            f"a response created with store: false was retrieved (status {retrieved.status})",
            c.evidence(retrieved),
        )


@check("responses.previous-response.carries", severity=MUST, endpoints=ENDPOINTS)
def previous_response_carries(first: Exchange, follow_up: Exchange) -> None:
    """A follow-up with `previous_response_id` reads the earlier turn's input and output.

    Its usage.input_tokens is at least the earlier input_tokens + output_tokens."""
    earlier, later = rs.usage_counts(c.body(first)), rs.usage_counts(c.body(follow_up))
    if earlier is None or later is None:
        return  # usage.present's failure
    if later[0] < earlier[0] + earlier[1]:
        raise Finding(
            f"the follow-up's input_tokens {later[0]} < the earlier turn's {earlier[0]} input + {earlier[1]}"
            " output tokens: the conversation was not carried",
            {"first": c.evidence(first), "follow_up": c.evidence(follow_up)},
        )


@check("responses.previous-response.unknown", severity=MUST, endpoints=ENDPOINTS)
def previous_response_unknown(exchange: Exchange) -> None:
    """A `previous_response_id` that names no stored response is refused with 400 or 404.

    Never stored, or deleted: not served as a fresh conversation, not a 5xx."""
    if exchange.status not in (400, 404):
        raise Finding(
            f"a previous_response_id that is not stored answered {exchange.status}, expected 400 or 404",
            c.evidence(exchange),
        )


# -- function calls -----------------------------------------------------------------------------------------
@check("responses.function-call.valid", severity=MUST, endpoints=ENDPOINTS)
def function_call_valid(exchange: Exchange) -> None:
    """Each function_call item carries a unique call_id, a declared tool's name, and JSON arguments valid
    against that tool's parameters (a call the token limit cut is not held to its arguments)."""
    payload = rs.final_response(exchange)
    tools = rs.declared_tools(c.request_body(exchange))
    problems, seen = [], set()
    for k, item in enumerate(rs.output_items(payload)):
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
    _problems(exchange, problems, "function calls")


@check("responses.function-call-output.round-trip", severity=MUST, endpoints=ENDPOINTS)
def function_call_output_round_trip(exchange: Exchange) -> None:
    """A follow-up that carries a function_call and its function_call_output is answered with a Response."""
    c.expect_answered(exchange, "the function call's output")
    c.expect_object(exchange, "response")


# -- parameter effect: honoured, refused with a 4xx naming it, or silently ignored (a failure) ---------------
def _effect(exchange: Exchange, param: str, asked: bool, ignored: Callable[[Json], str | None]) -> str:
    """The tools area's verdict on a parameter's effect, for a Response: a response the token limit cut
    is not judged (its output may stop short of what was asked)."""

    def unless_cut(payload: Json) -> str | None:
        return None if payload.get("status") == "incomplete" else ignored(payload)

    return tr.parameter_effect(exchange, param, asked, unless_cut)


@check("responses.instructions.effect", severity=MUST, endpoints=ENDPOINTS)
def instructions_effect(short: Exchange, longer: Exchange | None = None) -> str:
    """`instructions` is honoured (longer instructions, more input tokens) or refused with a 400 naming it.

    A model's default system prompt, which instructions replace, cannot hide that; never silently dropped."""

    def ignored(payload: Json) -> str | None:
        few, more = rs.usage_counts(payload), rs.usage_counts(c.body(longer)) if longer is not None else None
        if few is not None and more is not None and more[0] <= few[0]:
            return f"input_tokens {few[0]} with short instructions and {more[0]} with longer ones"
        return None

    return _effect(short, "instructions", "instructions" in c.request_body(short), ignored)


@check("responses.text-format.json", severity=MUST, endpoints=ENDPOINTS)
def text_format_json(exchange: Exchange) -> str:
    """`text.format` json_object is honoured (the text is a JSON object) or refused with a 400 naming it."""

    def ignored(payload: Json) -> str | None:
        return None if isinstance(_parsed(rs.output_text(payload)), dict) else "the text is not a JSON object"

    return _effect(exchange, "text.format", _format_of(exchange).get("type") == "json_object", ignored)


@check("responses.text-format.schema", severity=MUST, endpoints=ENDPOINTS)
def text_format_schema(exchange: Exchange) -> str:
    """A strict `text.format` json_schema is honoured (the text validates against the schema) or refused naming it."""
    fmt = _format_of(exchange)
    schema = fmt.get("schema") if isinstance(fmt.get("schema"), dict) else {}

    def ignored(payload: Json) -> str | None:
        text = rs.output_text(payload)
        value = _parsed(text)
        if value is _NOT_JSON:
            return f"the text {c.short(text)} is not JSON"
        problem = tr.argument_problem(text, schema)
        return problem.replace("arguments", "the text", 1) if problem else None

    asked = fmt.get("type") == "json_schema" and fmt.get("strict") is True
    return _effect(exchange, "text.format", asked, ignored)


@check("responses.tool-choice.effect", severity=MUST, endpoints=ENDPOINTS)
def tool_choice_effect(exchange: Exchange) -> str:
    """`tool_choice` is honoured (none: no call; required: a call; a named function: calls to it alone) or
    refused with a 400 naming it."""
    choice = c.request_body(exchange).get("tool_choice")
    named = choice.get("name") if isinstance(choice, dict) else None

    def ignored(payload: Json) -> str | None:
        names = [i.get("name") for i in rs.output_items(payload) if i.get("type") == "function_call"]
        if choice == "none":  # a call begun is a call made, even one the token limit cut
            return f"{len(names)} call(s) made" if names else None
        if not names:
            return None if payload.get("status") == "incomplete" else "no call made"
        return (
            None if named is None or set(names) == {named} else f"asked for calls to {named!r}, got {names}"
        )

    asked = choice in ("none", "required") or isinstance(named, str)
    return tr.parameter_effect(exchange, "tool_choice", asked, ignored)


_NOT_JSON = object()


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _format_of(exchange: Exchange) -> Json:
    text = c.request_body(exchange).get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    return fmt if isinstance(fmt, dict) else {}
