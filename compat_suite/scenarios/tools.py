"""Scenarios of tool calling and structured output: calls forced by `tool_choice`, their streamed
delta grammar, the parameters' effect, the tool round trip, `json_schema` and `json_object`, and
what the model chooses under `auto`, measured k of n.

Two function tools are declared: `get_weather` (nested object, enum, array, optional fields) and
`get_time` (no parameters). Requests are small: users run the suite against paid endpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..checks import TOOL_CALLS, TOOL_STREAM
from ..checks.clients import node_sdk_unavailable
from ..exchange import Exchange
from ..strategies import examples_within_budget
from ..target import NotApplicable
from . import _requests as r
from ._context import Context
from ._registry import Proof, Proofs, measured, proof, scenario

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather forecast for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1, "maximum": 7},
                    "maxItems": 3,
                },
                "place": {
                    "type": "object",
                    "properties": {"country": {"type": "string"}, "lat": {"type": "number"}},
                    "required": ["country"],
                    "additionalProperties": False,
                },
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The current time in a city.",
        "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
    },
}
TOOLS = [WEATHER, TIME]
ASK_WEATHER = "What is the weather in Paris, in celsius? Use the get_weather tool."
ASK_BOTH = "Use get_weather for the weather in Paris and get_time for the time in Paris."
RESULT = "Sunny and 24 degrees."
MAX_TOKENS = 200  # a call with its arguments, written by a small model, in a cheap request
AUTO_TRIES = 4  # behaviour is measured on few requests: each one is paid for
ROUND_TRIP_TRIES = 3
PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "city": {"type": "string"},
    },
    "required": ["name", "age", "city"],
    "additionalProperties": False,
}

CALL = ("chat.response.schema", *TOOL_CALLS)
# The stream's own framing and chunks are the streaming suite's (stream.basic); here, the tool calls.
STREAMED_CALL = ("stream.sse.json-data", "stream.chunk.schema", *TOOL_STREAM)


def _body(prompt: str, **params: Any) -> dict[str, Any]:
    return r.chat_body(prompt, max_tokens=MAX_TOKENS, tools=TOOLS, **params)


def _effect(check_id: str, exchange: Exchange, shape: tuple[str, ...] = CALL) -> Iterator[Proof]:
    """A parameter's effect: a refusal is judged as the error it is, an answer with every call check."""
    if 400 <= (exchange.status or 0) < 500:
        yield proof(check_id, exchange, error_response=True)
    else:
        yield proof((*shape, check_id), exchange)


def _named(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name}}


@scenario("tools.required", endpoint="chat", proves=(*CALL, "tools.choice.required"))
def tools_required(ctx: Context) -> Proofs:
    """tool_choice "required": at least one call, each well formed, with arguments valid for its tool."""
    yield from _effect("tools.choice.required", ctx.target.chat(_body(ASK_WEATHER, tool_choice="required")))


@scenario("tools.named", endpoint="chat", proves=(*CALL, "tools.choice.named"))
def tools_named(ctx: Context) -> Proofs:
    """A named tool_choice (the second tool, though the prompt asks for the first): exactly that call."""
    body = _body(ASK_WEATHER, tool_choice=_named("get_time"))
    yield from _effect("tools.choice.named", ctx.target.chat(body))


@scenario("tools.none", endpoint="chat", proves=(*CALL, "tools.choice.none"))
def tools_none(ctx: Context) -> Proofs:
    """tool_choice "none", though the prompt asks for a tool: no call."""
    yield from _effect("tools.choice.none", ctx.target.chat(_body(ASK_WEATHER, tool_choice="none")))


@scenario("tools.parallel-off", endpoint="chat", proves=(*CALL, "tools.parallel.off"))
def tools_parallel_off(ctx: Context) -> Proofs:
    """parallel_tool_calls false, with a prompt that asks for both tools: at most one call."""
    body = _body(ASK_BOTH, tool_choice="required", parallel_tool_calls=False)
    yield from _effect("tools.parallel.off", ctx.target.chat(body))


# The raw tool stream replayed into each SDK's own stream helper (calls accumulated by index): the
# finding names the client that broke and the byte it broke on.
REPLAYED = ("clients.python-sdk.parse", "clients.node-sdk.parse")


@scenario(
    "tools.stream",
    endpoint="chat",
    stream=True,
    proves=(*STREAMED_CALL, *REPLAYED, "chat.response.schema", "tools.stream.matches-unary"),
)
def tools_stream(ctx: Context) -> Proofs:
    """A forced call streamed: the delta grammar, both SDKs' stream helpers on its bytes, and the same
    calls as the unary answer at temperature 0; then a stream under auto, where a call must end with
    "tool_calls" (a forced one may say "stop")."""
    body = _body(ASK_WEATHER, tool_choice=_named("get_weather"), temperature=0, seed=r.SEED)
    streamed = ctx.target.chat_stream({**body, **r.INCLUDE_USAGE})
    yield proof(STREAMED_CALL, streamed)
    if any(
        isinstance(chunk, dict) and chunk.get("choices") for chunk in streamed.chunks
    ):  # something to read
        yield proof(REPLAYED if not node_sdk_unavailable() else REPLAYED[:1], streamed)
    unary = ctx.target.chat(body)
    yield proof("chat.response.schema", unary)
    yield proof("tools.stream.matches-unary", streamed, unary)
    auto = _body(ASK_WEATHER, temperature=0, seed=r.SEED, **r.INCLUDE_USAGE)
    yield proof(STREAMED_CALL, ctx.target.chat_stream(auto))


@scenario("tools.structured-output", endpoint="chat", proves=("chat.response.schema", "tools.strict-schema"))
def tools_strict_schema(ctx: Context) -> Proofs:
    """response_format json_schema with strict: true: the content validates against the schema."""
    fmt = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}
    body = r.chat_body("Describe Alice, 30, from Paris.", max_tokens=MAX_TOKENS, response_format=fmt)
    yield from _effect("tools.strict-schema", ctx.target.chat(body), ("chat.response.schema",))


@scenario("tools.json-mode", endpoint="chat", proves=("chat.response.schema", "tools.json-object"))
def tools_json_object(ctx: Context) -> Proofs:
    """response_format json_object: the content parses as a JSON object."""
    messages = [
        {"role": "developer", "content": "Reply with a JSON object only."},
        {"role": "user", "content": 'Give {"answer": <one word>} for: what colour is the sky?'},
    ]
    body = {"messages": messages, "max_tokens": 48, "response_format": {"type": "json_object"}}
    yield from _effect("tools.json-object", ctx.target.chat(body), ("chat.response.schema",))


def _calls_in(exchange: Exchange) -> list[Any]:
    """The first choice's tool calls ([] where the answer has none, or is not an answer)."""
    try:
        calls = exchange.json["choices"][0]["message"]["tool_calls"]
    except (TypeError, KeyError, IndexError):
        return []
    return calls if isinstance(calls, list) else []


def _follow_up(first: Exchange, content: Any) -> list[dict[str, Any]]:
    """The conversation after a call: the assistant's calls (with `content`), then one result each."""
    calls = _calls_in(first)
    assistant = {"role": "assistant", "content": content, "tool_calls": calls}
    results = [{"role": "tool", "tool_call_id": call["id"], "content": RESULT} for call in calls]
    return [{"role": "user", "content": ASK_WEATHER}, assistant, *results]


@scenario(
    "tools.round-trip",
    endpoint="chat",
    proves=(*CALL, "tools.choice.required", "tools.round-trip.accepted"),
)
def tools_round_trip(ctx: Context) -> Proofs:
    """A forced call, then its result sent back (assistant content null, then ""): both follow-ups are
    answered; whether the answer uses the result is measured as behaviour."""
    first = ctx.target.chat(_body(ASK_WEATHER, tool_choice="required"))
    yield from _effect("tools.choice.required", first)
    if not _calls_in(first):
        raise NotApplicable("the target refused tool_choice required: no call to answer")
    tries = examples_within_budget(ctx.target.sent, ctx.target.max_requests, ROUND_TRIP_TRIES)
    used = 0
    for attempt in range(tries):
        content = None if attempt % 2 == 0 else ""
        follow = _body("", temperature=0 if attempt < 2 else 1.0, seed=r.SEED + attempt)
        follow["messages"] = _follow_up(first, content)
        answer = ctx.target.chat(follow)
        yield proof(("chat.response.schema", "tools.round-trip.accepted"), answer)
        used += "24" in r.message_text(answer.json)
    if tries:
        yield measured(
            "tools.round-trip.uses-result",
            "The answer after a tool result quotes it (24 degrees)",
            used,
            tries,
            note=f"tool result {RESULT!r}",
        )


@scenario("tools.auto", endpoint="chat", proves=CALL)
def tools_auto(ctx: Context) -> Proofs:
    """tool_choice auto, a prompt that needs the tool: every call well formed; how often the model calls
    is measured k of n (behaviour, never a failure)."""
    tries = examples_within_budget(ctx.target.sent, ctx.target.max_requests, AUTO_TRIES)
    if not tries:
        raise NotApplicable("--max-requests leaves no room to measure tool use under auto")
    called = 0
    for attempt in range(tries):
        body = _body(ASK_WEATHER, temperature=0 if attempt == 0 else 1.0, seed=r.SEED + attempt)
        answer = ctx.target.chat(body)
        yield proof(CALL, answer)
        called += bool(_calls_in(answer))
    yield measured(
        "tools.auto.calls",
        "Under tool_choice auto, the model calls get_weather when asked for the weather",
        called,
        tries,
        note="first try at temperature 0, the others at 1.0 with distinct seeds",
    )
