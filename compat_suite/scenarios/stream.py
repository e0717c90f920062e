"""Streamed chat and legacy completions: SSE framing, chunk shapes, finish and usage, real streaming.

Each scenario runs once per streaming endpoint (its case: `chat`, `completions`).
"""

from __future__ import annotations

from typing import Any

from ..checks import PYTHON_CLIENTS, STREAM_FRAMING, stream_chunks
from ..exchange import Exchange
from ..target import Target
from . import _requests as r
from ._context import Context
from ._registry import Proofs, proof, scenario

ENDPOINTS = ("chat", "completions")
FRAMED = {endpoint: (*STREAM_FRAMING, *stream_chunks(endpoint)) for endpoint in ENDPOINTS}
REAL = ("stream.is-streamed", *PYTHON_CLIENTS)


def _body(endpoint: str, **params: Any) -> dict[str, Any]:
    return r.chat_body(**params) if endpoint == "chat" else r.completion_body(**params)


def _streamed(t: Target, endpoint: str, body: dict[str, Any]) -> Exchange:
    """`body` streamed on `endpoint`, with usage in the final chunk."""
    send = t.chat_stream if endpoint == "chat" else t.completions_stream
    t.require(endpoint)
    return send({**body, **r.INCLUDE_USAGE})


UNARY = ("stream.text.matches-unary", "stream.usage.matches-unary")


@scenario("stream.basic", stream=True, cases=ENDPOINTS, proves=(*FRAMED["chat"], *REAL, *UNARY))
def stream_basic(ctx: Context) -> Proofs:
    """One stream passes every framing and chunk check, arrives as a stream, and matches the unary
    answer to the same request (its text and its usage)."""
    endpoint = ctx.case or "chat"
    body = _body(endpoint, temperature=0, seed=r.SEED)
    streamed = _streamed(ctx.target, endpoint, body)
    yield proof((*FRAMED[endpoint], *REAL), streamed)
    unary = ctx.target.chat(body) if endpoint == "chat" else ctx.target.completions(body)
    yield proof(UNARY, streamed, unary)


@scenario("stream.without-usage", stream=True, cases=ENDPOINTS, proves=FRAMED["chat"])
def stream_without_usage(ctx: Context) -> Proofs:
    """A stream that does not ask for usage gets none, and passes every framing and chunk check."""
    endpoint = ctx.case or "chat"
    send = ctx.target.chat_stream if endpoint == "chat" else ctx.target.completions_stream
    ctx.target.require(endpoint)
    yield proof(FRAMED[endpoint], send(_body(endpoint, max_tokens=8, temperature=0)))


@scenario("stream.n-choices", stream=True, cases=ENDPOINTS, proves=FRAMED["chat"])
def stream_n_choices(ctx: Context) -> Proofs:
    """n=2 streamed: each choice opens with the role (chat) and finishes exactly once, usage comes last."""
    endpoint = ctx.case or "chat"
    body = _body(endpoint, max_tokens=8, n=2, temperature=1.0, seed=r.SEED)
    yield proof(FRAMED[endpoint], _streamed(ctx.target, endpoint, body))


@scenario("stream.reasoning", stream=True, proves=(*FRAMED["chat"], "stream.reasoning.separate"))
def stream_reasoning(ctx: Context) -> Proofs:
    """A question worth thinking about, streamed: no reasoning in the content deltas."""
    streamed = _streamed(ctx.target, "chat", r.chat_body(r.REASON, max_tokens=48, temperature=0))
    yield proof((*FRAMED["chat"], "stream.reasoning.separate"), streamed)
