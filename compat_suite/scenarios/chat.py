"""Scenarios of unary chat completions: shapes, usage, n, limits, stop, seed, logprobs, JSON mode.

Each sends one or two small requests (temperature 0 where a comparison needs it).
"""

from __future__ import annotations

from typing import Any

from ..checks import PYTHON_CLIENTS, response_shape
from ..target import Target
from . import _generation as g
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
CHAT = g.Generation(Target.chat, r.chat_body, r.message_text, stop=lambda word: [word], answer="answer")


@scenario("chat.basic", endpoint="chat", proves=SHAPE)
def chat_basic(ctx: Context) -> Proofs:
    """One plain request: every shape check, and the SDKs parse it."""
    yield from g.basic(CHAT, ctx, SHAPE)


@scenario("chat.n-choices", endpoint="chat", proves=N_CHOICES)
def chat_n_choices(ctx: Context) -> Proofs:
    """n=2 gets two choices, indexed 0 and 1, each within the token limit."""
    yield from g.n_choices(CHAT, ctx, N_CHOICES)


@scenario("chat.max-tokens-binds", endpoint="chat", proves=MAX_TOKENS_BIND)
def chat_max_tokens_binds(ctx: Context) -> Proofs:
    """A limit shorter than any natural answer is respected."""
    yield from g.max_tokens_binds(CHAT, ctx, MAX_TOKENS_BIND, r.LONG_ANSWER)


@scenario("chat.stop-sequence", endpoint="chat", proves=STOP)
def chat_stop_sequence(ctx: Context) -> Proofs:
    """A stop sequence taken from the model's own answer cuts the answer before it."""
    yield from g.stop_sequence(CHAT, ctx, STOP, "chat.response.schema")


@scenario("chat.seed-determinism", endpoint="chat", proves=("chat.seed.determinism",))
def chat_seed_determinism(ctx: Context) -> Proofs:
    """The same sampled request with the same seed gives the same answer twice."""
    yield from g.seed_determinism(CHAT, ctx, "chat.seed.determinism")


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
