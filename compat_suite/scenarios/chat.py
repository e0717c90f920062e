"""Scenarios of unary chat completions: shapes, usage, n, limits, stop, seed, logprobs, JSON mode.

Each sends one or two small requests (temperature 0 where a comparison needs it).
"""

from __future__ import annotations

from typing import Any

from ..checks import PYTHON_CLIENTS, response_shape
from ..strategies import stop_from
from ..target import NotApplicable
from . import _requests as r
from ._context import Context
from ._registry import Proofs, proof, scenario

SHAPE = (*response_shape("chat"), *PYTHON_CLIENTS)
N_CHOICES = ("chat.response.schema", "chat.n.indexed", "chat.finish-reason.enum", "chat.max-tokens.respected")
MAX_TOKENS_BIND = (
    "chat.response.schema",
    "chat.max-tokens.respected",
    "chat.usage.sum",
    "chat.finish-reason.length",
)
STOP = ("chat.response.schema", "chat.stop.honoured", "chat.finish-reason.enum")
LOGPROBS = ("chat.response.schema", "chat.logprobs.valid")
JSON_MODE = ("chat.response.schema", "chat.response-format.json")


@scenario("chat.basic", endpoint="chat", proves=SHAPE)
def chat_basic(ctx: Context) -> Proofs:
    """One plain request: every shape check, and the SDKs parse it."""
    yield proof(SHAPE, ctx.target.chat(r.chat_body(temperature=0)))


@scenario("chat.n-choices", endpoint="chat", proves=N_CHOICES)
def chat_n_choices(ctx: Context) -> Proofs:
    """n=2 gets two choices, indexed 0 and 1, each within the token limit."""
    body = r.chat_body(max_tokens=8, n=2, temperature=1.0, seed=r.SEED)
    yield proof(N_CHOICES, ctx.target.chat(body))


@scenario("chat.max-tokens-binds", endpoint="chat", proves=MAX_TOKENS_BIND)
def chat_max_tokens_binds(ctx: Context) -> Proofs:
    """A limit shorter than any natural answer is respected."""
    body = r.chat_body(r.LONG_ANSWER, max_tokens=2, temperature=0)
    yield proof(MAX_TOKENS_BIND, ctx.target.chat(body))


@scenario("chat.stop-sequence", endpoint="chat", proves=STOP)
def chat_stop_sequence(ctx: Context) -> Proofs:
    """A stop sequence taken from the model's own answer cuts the answer before it."""
    body = r.chat_body(temperature=0, seed=r.SEED)
    first = ctx.target.chat(body)
    yield proof("chat.response.schema", first)
    stop = stop_from(r.message_text(first.json))
    if stop is None:
        raise NotApplicable("the model's answer has no word to use as a stop sequence")
    yield proof(STOP, ctx.target.chat({**body, "stop": [stop]}))


@scenario("chat.seed-determinism", endpoint="chat", proves=("chat.seed.determinism",))
def chat_seed_determinism(ctx: Context) -> Proofs:
    """The same sampled request with the same seed gives the same answer twice."""
    body = r.chat_body(max_tokens=8, temperature=1.0, seed=r.SEED)
    yield proof("chat.seed.determinism", ctx.target.chat(body), ctx.target.chat(body))


@scenario("chat.logprobs", endpoint="chat", proves=LOGPROBS)
def chat_logprobs(ctx: Context) -> Proofs:
    """logprobs with top_logprobs=2: one entry per token, every logprob <= 0."""
    body = r.chat_body(max_tokens=4, logprobs=True, top_logprobs=2)
    yield proof(LOGPROBS, ctx.target.chat(body))


@scenario("chat.json-mode", endpoint="chat", proves=JSON_MODE)
def chat_json_mode(ctx: Context) -> Proofs:
    """response_format json_object: a finished answer is a JSON object."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Reply with a JSON object only."},
        {"role": "user", "content": 'Give {"answer": <one word>} for: what colour is the sky?'},
    ]
    body = {
        "messages": messages,
        "max_tokens": 48,
        "temperature": 0,
        "response_format": {"type": "json_object"},
    }
    yield proof(JSON_MODE, ctx.target.chat(body))


REASONING = ("chat.response.schema", "chat.reasoning.separate", "chat.reasoning.field")


@scenario(
    "chat.developer-role", endpoint="chat", proves=("chat.response.schema", "chat.developer-role.accepted")
)
def chat_developer_role(ctx: Context) -> Proofs:
    """A `developer` message (OpenAI's successor of `system`) is served like a system one."""
    messages = [
        {"role": "developer", "content": "Answer in one word."},
        {"role": "user", "content": r.PROMPT},
    ]
    yield proof(
        ("chat.response.schema", "chat.developer-role.accepted"),
        ctx.target.chat({"messages": messages, "max_tokens": 8}),
    )


@scenario("chat.reasoning", endpoint="chat", proves=REASONING)
def chat_reasoning(ctx: Context) -> Proofs:
    """A question worth thinking about: reasoning, if the server returns any, stays out of the content,
    in one field (the finding names it)."""
    yield proof(REASONING, ctx.target.chat(r.chat_body(r.REASON, max_tokens=48, temperature=0)))
