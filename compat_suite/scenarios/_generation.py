"""The requests chat and legacy completions scenarios share, sent to either endpoint.

The two endpoints differ only in the request body, where the answer's text stands and how `stop` is
written. Each area module registers its own scenarios (their ids written there) and runs these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exchange import Exchange
from ..strategies import stop_from
from ..target import NotApplicable, Target
from . import _requests as r
from ._context import Context
from ._registry import Proofs, proof


@dataclass(frozen=True)
class Generation:
    """One text-generation endpoint, as the shared scenarios use it."""

    send: Callable[[Target, dict[str, Any]], Exchange]  # Target.chat or Target.completions
    body: Callable[..., dict[str, Any]]  # a small request: (prompt, **params)
    text: Callable[[Any], str]  # the first choice's text in a response body
    stop: Callable[[str], Any]  # one stop sequence as the endpoint takes it
    answer: str  # what the model's text is called, in a reason


def basic(endpoint: Generation, ctx: Context, checks: tuple[str, ...]) -> Proofs:
    yield proof(checks, endpoint.send(ctx.target, endpoint.body(temperature=0)))


def n_choices(endpoint: Generation, ctx: Context, checks: tuple[str, ...]) -> Proofs:
    body = endpoint.body(max_tokens=8, n=2, temperature=1.0, seed=r.SEED)
    yield proof(checks, endpoint.send(ctx.target, body))


def max_tokens_binds(endpoint: Generation, ctx: Context, checks: tuple[str, ...], prompt: str) -> Proofs:
    """`prompt` asks for far more than two tokens."""
    yield proof(checks, endpoint.send(ctx.target, endpoint.body(prompt, max_tokens=2, temperature=0)))


def stop_sequence(endpoint: Generation, ctx: Context, checks: tuple[str, ...], schema_check: str) -> Proofs:
    """A first answer (judged by `schema_check` alone) gives the stop word; the second proves `checks`."""
    body = endpoint.body(temperature=0, seed=r.SEED)
    first = endpoint.send(ctx.target, body)
    yield proof(schema_check, first)
    stop = stop_from(endpoint.text(first.json))
    if stop is None:
        raise NotApplicable(f"the model's {endpoint.answer} has no word to use as a stop sequence")
    yield proof(checks, endpoint.send(ctx.target, {**body, "stop": endpoint.stop(stop)}))


def seed_determinism(endpoint: Generation, ctx: Context, check: str) -> Proofs:
    body = endpoint.body(max_tokens=8, temperature=1.0, seed=r.SEED)
    yield proof(check, endpoint.send(ctx.target, body), endpoint.send(ctx.target, body))
