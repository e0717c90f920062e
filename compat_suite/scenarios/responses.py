"""Scenarios of the Responses API: the Response object, the event stream, stored responses and
conversation state, and the parameters that must take effect.

Small requests (max_output_tokens 16 to 64, temperature 0 where two answers are compared); the
stored-response scenarios delete what they stored.
"""

from __future__ import annotations

from typing import Any

from ..checks import TRANSPORT
from ..exchange import Exchange
from ..target import NotApplicable
from . import _requests as r
from ._context import Context
from ._registry import Proof, Proofs, proof, scenario
from .tools import ASK_WEATHER, PERSON, RESULT, WEATHER
from .tools import MAX_TOKENS as TOOLS_MAX_TOKENS

SHAPE = (
    *TRANSPORT,
    "responses.response.schema",
    "responses.response.object",
    "responses.response.id-prefix",
    "responses.response.created-at",
    "responses.response.status",
    "responses.output-text.joined",
    "responses.usage.present",
    "responses.usage.sum",
)
CUT = (
    "responses.response.schema",
    "responses.max-output-tokens.respected",
    "responses.incomplete.max-output-tokens",
    "responses.response.status",
)
STREAM_FRAMING = ("stream.content-type", "stream.sse.utf8", "stream.sse.blank-line", "stream.sse.json-data",
                  "stream.sse.complete")  # fmt: skip
STREAM = (
    *STREAM_FRAMING,
    "responses.stream.event-schema",
    "responses.stream.event-type",
    "responses.stream.sequence",
    "responses.stream.lifecycle",
    "responses.stream.indices",
    "responses.stream.text-adds-up",
    "responses.stream.arguments-add-up",
    "responses.stream.final-response",
    "responses.stream.error-event",
)
REFUSED = ("errors.envelope",)


def _id_of(exchange: Exchange) -> str | None:
    payload = exchange.json
    value = payload.get("id") if isinstance(payload, dict) else None
    return value if isinstance(value, str) and value else None


@scenario("responses.basic", endpoint="responses", proves=(*SHAPE, "responses.response.id"))
def responses_basic(ctx: Context) -> Proofs:
    """A plain text input: every shape check; a second answer has an id of its own."""
    body = r.responses_body(temperature=0)
    first = ctx.target.responses(body)
    yield proof(SHAPE, first)
    yield proof("responses.response.id", first, ctx.target.responses(body))


@scenario("responses.stream-default", endpoint="responses", proves=("responses.stream.default-off",))
def responses_stream_default(ctx: Context) -> Proofs:
    """A request that leaves `stream` out, as the SDKs send it, is answered with JSON."""
    body = {k: v for k, v in r.responses_body(temperature=0).items() if k != "stream"}
    yield proof("responses.stream.default-off", ctx.target.responses(body))


@scenario("responses.max-output-tokens", endpoint="responses", proves=CUT)
def responses_max_output_tokens(ctx: Context) -> Proofs:
    """A limit shorter than the answer: at most that many tokens, and the response says it was cut."""
    yield proof(CUT, ctx.target.responses(r.responses_body(r.RESPONSES_LONG_ANSWER, temperature=0)))


@scenario(
    "responses.stream", endpoint="responses", stream=True, proves=(*STREAM, "responses.stream.matches-unary")
)
def responses_stream(ctx: Context) -> Proofs:
    """One stream keeps the event grammar and adds up, and at temperature 0 says what the unary answer says."""
    body = r.responses_body(temperature=0)  # cut or not, both answers end alike at temperature 0
    streamed = ctx.target.responses_stream(body)
    yield proof(STREAM, streamed)
    yield proof("responses.stream.matches-unary", streamed, ctx.target.responses(body))


@scenario("responses.stream-incomplete", endpoint="responses", stream=True, proves=STREAM)
def responses_stream_incomplete(ctx: Context) -> Proofs:
    """A stream cut by max_output_tokens ends with `response.incomplete` and still adds up."""
    yield proof(STREAM, ctx.target.responses_stream(r.responses_body(r.RESPONSES_LONG_ANSWER, temperature=0)))


def _stored(ctx: Context, body: dict[str, Any]) -> tuple[Exchange, str | None]:
    """A stored response to `body` and its id (None where the answer has none)."""
    created = ctx.target.responses(body)
    return created, _id_of(created)


@scenario("responses.retrieve", endpoint="responses", proves=("responses.retrieve.same",))
def responses_retrieve(ctx: Context) -> Proofs:
    """A stored response is retrieved as it was created."""
    created, response_id = _stored(ctx, r.responses_body(temperature=0))
    if response_id is None:
        yield proof(SHAPE, created)
        return
    yield proof("responses.retrieve.same", created, ctx.target.stored_response("GET", response_id))
    ctx.target.stored_response("DELETE", response_id)  # tidy up; its answer is judged elsewhere


@scenario(
    "responses.input-items",
    endpoint="responses",
    proves=("responses.input-items.schema", "responses.input-items.listed"),
)
def responses_input_items(ctx: Context) -> Proofs:
    """A stored response lists its input items (a short conversation), in order, with ids."""
    created, response_id = _stored(ctx, r.responses_body(r.CONVERSATION, temperature=0))
    if response_id is None:
        yield proof(SHAPE, created)
        return
    listed = ctx.target.stored_response("GET", response_id, "/input_items?order=asc")
    yield proof("responses.input-items.schema", listed)
    yield proof("responses.input-items.listed", created, listed)
    ctx.target.stored_response("DELETE", response_id)


@scenario(
    "responses.delete",
    endpoint="responses",
    proves=("responses.delete.removes", "responses.previous-response.unknown", *REFUSED),
)
def responses_delete(ctx: Context) -> Proofs:
    """A deleted response is gone (404), also as a `previous_response_id`."""
    t = ctx.target
    created, response_id = _stored(ctx, r.responses_body(temperature=0))
    if response_id is None:
        yield proof(SHAPE, created)
        return
    deleted = t.stored_response("DELETE", response_id)
    # The GET after the DELETE is context, not a proof's answer: its 404 is what the check wants.
    yield proof("responses.delete.removes", deleted, retrieved_after=t.stored_response("GET", response_id))
    orphan = t.responses(r.responses_body(previous_response_id=response_id))
    yield proof(("responses.previous-response.unknown", *REFUSED), orphan, error_response=True)


@scenario(
    "responses.previous-response-unknown",
    endpoint="responses",
    proves=("responses.previous-response.unknown", *REFUSED),
)
def responses_previous_response_unknown(ctx: Context) -> Proofs:
    """A `previous_response_id` that was never stored is refused, not served as a fresh conversation."""
    body = r.responses_body(previous_response_id=r.UNKNOWN_RESPONSE_ID)
    yield proof(
        ("responses.previous-response.unknown", *REFUSED), ctx.target.responses(body), error_response=True
    )


@scenario("responses.store-false", endpoint="responses", proves=("responses.store.honoured",))
def responses_store_false(ctx: Context) -> Proofs:
    """A response created with `store: false` cannot be retrieved."""
    created = ctx.target.responses(r.responses_body(store=False))
    response_id = _id_of(created)
    if response_id is None:
        yield proof(SHAPE, created)
        return
    yield proof("responses.store.honoured", created, retrieved=ctx.target.stored_response("GET", response_id))


@scenario(
    "responses.previous-response", endpoint="responses", proves=("responses.previous-response.carries",)
)
def responses_previous_response(ctx: Context) -> Proofs:
    """A follow-up through `previous_response_id` is served and reads the earlier turn."""
    t = ctx.target
    first = t.responses(r.responses_body("My name is Alice. Say hello to me.", temperature=0))
    response_id = _id_of(first)
    if response_id is None:
        yield proof(SHAPE, first)
        return
    follow_up = t.responses(
        r.responses_body("What is my name?", temperature=0, previous_response_id=response_id)
    )
    yield proof("responses.previous-response.carries", first, follow_up)
    t.stored_response("DELETE", response_id)  # tidy up; its answer is not judged here


@scenario("responses.instructions", endpoint="responses", proves=("responses.instructions.effect", *REFUSED))
def responses_instructions(ctx: Context) -> Proofs:
    """`instructions` is read by the model (longer instructions, more input tokens), or refused with a
    400 naming it."""
    body = r.responses_body(temperature=0)
    short = ctx.target.responses({**body, "instructions": r.INSTRUCTIONS})
    if (short.status or 0) >= 400:
        yield proof(("responses.instructions.effect", *REFUSED), short, error_response=True)
        return
    longer = ctx.target.responses({**body, "instructions": r.INSTRUCTIONS + r.MORE_INSTRUCTIONS})
    yield proof("responses.instructions.effect", short, longer)


@scenario("responses.json-mode", endpoint="responses", proves=("responses.text-format.json", *REFUSED))
def responses_json_mode(ctx: Context) -> Proofs:
    """text.format json_object: a completed answer is a JSON object, or the format is refused naming it."""
    body: dict[str, Any] = r.responses_body(
        'Give {"answer": <one word>} for: what colour is the sky?',
        instructions="Reply with a JSON object only.",
        temperature=0,
        max_output_tokens=r.RESPONSES_ROOMY,
        text={"format": {"type": "json_object"}},
    )
    answer = ctx.target.responses(body)
    refused = (answer.status or 0) >= 400
    checks = ("responses.text-format.json", *REFUSED) if refused else ("responses.text-format.json",)
    yield proof(checks, answer, error_response=refused)


# -- function calls and structured output (through the tools area's request data) ----------------------------
TOOL = {"type": "function", **WEATHER["function"], "strict": False}  # optional fields: not strict-eligible
NAMED = {"type": "function", "name": "get_weather"}
CALLS = ("responses.response.schema", "responses.function-call.valid", "responses.tool-choice.effect")


def _tools_body(input: Any = ASK_WEATHER, **params: Any) -> dict[str, Any]:
    """A request offering the tool (room for a call's arguments unless `max_output_tokens` says less)."""
    return r.responses_body(
        input, **{"tools": [TOOL], "max_output_tokens": TOOLS_MAX_TOKENS, "temperature": 0, **params}
    )


def _call_or_refusal(answer: Exchange, checks: tuple[str, ...]) -> Proof:
    """The proof of a tools answer: its checks, or (refused) the refusal naming the parameter."""
    if (answer.status or 0) >= 400:
        return proof(("responses.tool-choice.effect", *REFUSED), answer, error_response=True)
    return proof(checks, answer)


@scenario("responses.tools", endpoint="responses", proves=(*CALLS, *REFUSED))
def responses_tools(ctx: Context) -> Proofs:
    """tool_choice named, required and none: a valid call to the named function, some call, no call."""
    for choice in (NAMED, "required"):
        yield _call_or_refusal(ctx.target.responses(_tools_body(tool_choice=choice)), CALLS)
    # room for a whole call, were the model to make one (a call cut short would not be judged)
    none = _tools_body(tool_choice="none", max_output_tokens=r.RESPONSES_ROOMY)
    yield _call_or_refusal(ctx.target.responses(none), ("responses.tool-choice.effect",))


@scenario(
    "responses.tools-stream",
    endpoint="responses",
    stream=True,
    proves=(*STREAM, "responses.function-call.valid"),
)
def responses_tools_stream(ctx: Context) -> Proofs:
    """A streamed forced call: the argument deltas add up to the call, which is valid."""
    yield proof(
        (*STREAM, "responses.function-call.valid"),
        ctx.target.responses_stream(_tools_body(tool_choice=NAMED)),
    )


def _first_call(answer: Exchange) -> dict[str, Any] | None:
    payload = answer.json if isinstance(answer.json, dict) else {}
    output = payload.get("output") if isinstance(payload.get("output"), list) else []
    return next((i for i in output if isinstance(i, dict) and i.get("type") == "function_call"), None)


@scenario(
    "responses.tool-round-trip",
    endpoint="responses",
    proves=("responses.function-call.valid", "responses.function-call-output.round-trip"),
)
def responses_tool_round_trip(ctx: Context) -> Proofs:
    """A call's output goes back as a function_call_output: with the call in the input, and through
    `previous_response_id`; both are answered."""
    t = ctx.target
    first = t.responses(_tools_body(tool_choice=NAMED))
    yield proof("responses.function-call.valid", first)
    call = _first_call(first)
    if call is None:
        raise NotApplicable("no function call came back to answer (responses.tools judges why)")
    output = {"type": "function_call_output", "call_id": call.get("call_id"), "output": RESULT}
    history = [{"role": "user", "content": ASK_WEATHER}, call, output]
    short = r.RESPONSES_MAX_OUTPUT_TOKENS  # an answer, or its start, is all the round trip needs
    answered = t.responses(_tools_body(history, max_output_tokens=short))
    yield proof("responses.function-call-output.round-trip", answered)
    response_id = _id_of(first)
    if response_id is not None:
        follow = t.responses(_tools_body([output], previous_response_id=response_id, max_output_tokens=short))
        yield proof("responses.function-call-output.round-trip", follow)
        t.stored_response("DELETE", response_id)


@scenario(
    "responses.text-format-schema", endpoint="responses", proves=("responses.text-format.schema", *REFUSED)
)
def responses_text_format_schema(ctx: Context) -> Proofs:
    """A strict json_schema text.format: the text validates against the schema, or the format is refused naming it."""
    fmt = {"type": "json_schema", "name": "person", "schema": PERSON, "strict": True}
    body = r.responses_body(
        "Describe Alice, 30, from Paris.", max_output_tokens=TOOLS_MAX_TOKENS, text={"format": fmt}
    )
    answer = ctx.target.responses(body)
    refused = (answer.status or 0) >= 400
    checks = ("responses.text-format.schema", *REFUSED) if refused else ("responses.text-format.schema",)
    yield proof(checks, answer, error_response=refused)
