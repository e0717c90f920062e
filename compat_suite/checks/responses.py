"""Checks of the Responses API (`POST /responses`, streamed or not, and the stored response routes).

Unary: the Response object's shape and fields, its status, usage and limits. Stream: the event
grammar, in order, with the pieces adding up to the final response (the strict reader in
compat_suite/sse.py keeps each event's `event:` line; `_response_stream` follows items and parts,
`_response_grammar` lists where they break the rules).
State: retrieve, input_items, delete, `store`, `previous_response_id`. Parameter effect: a parameter
is honoured or refused with a 400 naming it, never silently ignored (`_response_effects`).
"""

from __future__ import annotations

from ..exchange import Exchange
from . import _common as c
from . import _response_effects as fx
from . import _response_grammar as rg
from . import _response_stream as rs
from . import _tools_reading as tr
from ._registry import MUST, SHOULD, Finding, check
from .errors import errors_invalid_request_accepted
from .request import request_accepted
from .transport import transport_json_body

ENDPOINTS = ("responses",)
ID_PREFIX = "resp_"
# The root-cause gates that checks here name more precisely (see `check(refines=...)`).
SERVED, REFUSED, JSON_BODY = request_accepted.id, errors_invalid_request_accepted.id, transport_json_body.id


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
    problem = rs.status_problem(payload)
    if problem:
        fields = {k: payload.get(k) for k in ("status", "incomplete_details", "error")}
        raise Finding(problem, c.evidence(exchange, **fields))


@check("responses.incomplete.max-output-tokens", severity=MUST, endpoints=ENDPOINTS)
def incomplete_max_output_tokens(exchange: Exchange) -> None:
    """An answer that used all of `max_output_tokens` is `incomplete` (reason "max_output_tokens").

    The scenario asks for more text than the limit allows; an answer whose natural end fell exactly on
    the limit would be misjudged, which that prompt makes impossible."""
    limit = c.token_limit(c.request_body(exchange), "max_output_tokens")
    problem = rs.not_said_incomplete(c.body(exchange), limit)
    if problem:
        raise Finding(problem, c.evidence(exchange, limit=limit))


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
@check("responses.stream.default-off", severity=MUST, endpoints=ENDPOINTS, refines=JSON_BODY)
def stream_default_off(exchange: Exchange) -> None:
    """A request that leaves `stream` out gets one JSON Response, not an event stream (default false)."""
    if "stream" in c.request_body(exchange):
        return  # asked for explicitly
    framed = exchange.body.lstrip().startswith((b"data:", b"event:"))
    if framed or c.media_type(exchange) == "text/event-stream":
        raise Finding(
            f"no `stream` in the request, yet the answer is an event stream ({exchange.content_type!r});"
            " `stream` defaults to false",
            c.evidence(exchange),
        )


@check("responses.stream.event-schema", severity=MUST, endpoints=ENDPOINTS)
def stream_event_schema(exchange: Exchange) -> None:
    """Every event validates against ResponseStreamEvent (error events are judged by stream.error-event)."""
    rs.expect_events_valid(exchange, "ResponseStreamEvent", errors=False)


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
    _problems(exchange, rg.lifecycle_problems(rs.events(exchange)), "the event order is broken")


@check("responses.stream.indices", severity=MUST, endpoints=ENDPOINTS)
def stream_indices(exchange: Exchange) -> None:
    """`output_index`, `content_index` and `item_id` stay consistent with the items and parts opened."""
    _problems(exchange, rg.index_problems(rs.events(exchange)), "inconsistent indices")


@check("responses.stream.text-adds-up", severity=MUST, endpoints=ENDPOINTS)
def stream_text_adds_up(exchange: Exchange) -> None:
    """Each text part's deltas join to the text every later event gives for that part.

    That is its output_text.done text, its content_part.done part, its item's text at
    output_item.done and the terminal response's."""
    _problems(exchange, rg.text_problems(rs.events(exchange)), "the text does not add up")


@check("responses.stream.arguments-add-up", severity=MUST, endpoints=ENDPOINTS)
def stream_arguments_add_up(exchange: Exchange) -> None:
    """Each function call's argument deltas join to function_call_arguments.done, the item at
    output_item.done and the terminal response's item, and the done event names the item's function."""
    _problems(exchange, rg.argument_problems(rs.events(exchange)), "the arguments do not add up")


@check("responses.stream.final-response", severity=MUST, endpoints=ENDPOINTS)
def stream_final_response(exchange: Exchange) -> None:
    """The terminal event carries the created response, with its status, usage and the streamed items.

    Same id as `response.created`, the status its type names, usage, and as output exactly the items
    the stream finished, in order."""
    found = rs.events(exchange)
    end = rs.terminal(found)
    if end is None:
        return  # stream.lifecycle's failure
    _problems(exchange, rg.final_response_problems(found, end), f"the final response ({end.type})")


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
    rs.expect_events_valid(exchange, "ResponseErrorEvent", errors=True)


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
    if payload.get("object") != "list" or not isinstance(payload.get("data"), list):
        raise Finding(f"not a list page: object {c.short(payload.get('object'))}", c.evidence(listed))
    sent = c.request_body(created).get("input")
    _problems(listed, rs.input_items_problems(payload, sent), "input_items")


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


@check("responses.previous-response.unknown", severity=MUST, endpoints=ENDPOINTS, refines=REFUSED)
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
    _problems(exchange, rs.function_call_problems(payload, tools), "function calls")


@check("responses.function-call-output.round-trip", severity=MUST, endpoints=ENDPOINTS, refines=SERVED)
def function_call_output_round_trip(exchange: Exchange) -> None:
    """A follow-up that carries a function_call and its function_call_output is answered with a Response."""
    c.expect_answered(exchange, "the function call's output")
    c.expect_object(exchange, "response")


# -- parameter effect: honoured, refused with a 4xx naming it, or silently ignored (a failure) ---------------
@check("responses.instructions.effect", severity=MUST, endpoints=ENDPOINTS)
def instructions_effect(short: Exchange, longer: Exchange | None = None) -> str:
    """`instructions` is honoured (longer instructions, more input tokens) or refused with a 400 naming it.

    A model's default system prompt, which instructions replace, cannot hide that; never silently dropped."""
    asked = "instructions" in c.request_body(short)
    return fx.effect(short, "instructions", asked, fx.instructions_ignored(longer))


@check("responses.text-format.json", severity=MUST, endpoints=ENDPOINTS)
def text_format_json(exchange: Exchange) -> str:
    """`text.format` json_object is honoured (the text is a JSON object) or refused with a 400 naming it."""
    asked = fx.text_format(exchange).get("type") == "json_object"
    return fx.effect(exchange, "text.format", asked, fx.text_not_json_object, opens="{")


@check("responses.text-format.schema", severity=MUST, endpoints=ENDPOINTS)
def text_format_schema(exchange: Exchange) -> str:
    """A strict `text.format` json_schema is honoured (the text validates against the schema) or refused naming it."""
    fmt = fx.text_format(exchange)
    schema = fmt.get("schema") if isinstance(fmt.get("schema"), dict) else {}
    asked = fmt.get("type") == "json_schema" and fmt.get("strict") is True
    return fx.effect(exchange, "text.format", asked, fx.text_off_schema(schema), opens=tr.json_start(schema))


@check("responses.tool-choice.effect", severity=MUST, endpoints=ENDPOINTS)
def tool_choice_effect(exchange: Exchange) -> str:
    """`tool_choice` is honoured (none: no call; required: a call; a named function: calls to it alone) or
    refused with a 400 naming it."""
    choice = c.request_body(exchange).get("tool_choice")
    named = choice.get("name") if isinstance(choice, dict) else None
    asked = choice in ("none", "required") or isinstance(named, str)
    return tr.parameter_effect(exchange, "tool_choice", asked, fx.tool_choice_ignored(choice, named))
