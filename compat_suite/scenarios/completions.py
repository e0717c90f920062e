"""Scenarios of unary legacy completions: shapes, usage, n, limits, stop, seed, echo."""

from __future__ import annotations

from ..checks import PYTHON_CLIENTS, response_shape
from ..strategies import stop_from
from ..target import NotApplicable
from . import _requests as r
from ._context import Context
from ._registry import Proofs, proof, scenario

SHAPE = (*response_shape("completions"), *PYTHON_CLIENTS)
N_CHOICES = ("completions.response.schema", "completions.n.indexed", "completions.max-tokens.respected")
MAX_TOKENS_BIND = (
    "completions.response.schema",
    "completions.max-tokens.respected",
    "completions.usage.sum",
    "completions.finish-reason.length",
)
STOP = ("completions.response.schema", "completions.stop.honoured", "completions.finish-reason.enum")
ECHO = ("completions.response.schema", "completions.echo.prefix", "completions.stop.honoured")


@scenario("completions.basic", endpoint="completions", proves=SHAPE)
def completions_basic(ctx: Context) -> Proofs:
    """One plain request: every shape check, and the SDKs parse it."""
    yield proof(SHAPE, ctx.target.completions(r.completion_body(temperature=0)))


@scenario("completions.n-choices", endpoint="completions", proves=N_CHOICES)
def completions_n_choices(ctx: Context) -> Proofs:
    """n=2 gets two choices, indexed 0 and 1."""
    body = r.completion_body(max_tokens=8, n=2, temperature=1.0, seed=r.SEED)
    yield proof(N_CHOICES, ctx.target.completions(body))


@scenario("completions.max-tokens-binds", endpoint="completions", proves=MAX_TOKENS_BIND)
def completions_max_tokens_binds(ctx: Context) -> Proofs:
    """A limit shorter than any natural continuation is respected."""
    body = r.completion_body("One, two, three, four,", max_tokens=2, temperature=0)
    yield proof(MAX_TOKENS_BIND, ctx.target.completions(body))


@scenario("completions.stop-sequence", endpoint="completions", proves=STOP)
def completions_stop_sequence(ctx: Context) -> Proofs:
    """A stop sequence taken from the model's own continuation cuts it before that point."""
    body = r.completion_body(temperature=0, seed=r.SEED)
    first = ctx.target.completions(body)
    yield proof("completions.response.schema", first)
    stop = stop_from(r.completion_text(first.json))
    if stop is None:
        raise NotApplicable("the model's continuation has no word to use as a stop sequence")
    yield proof(STOP, ctx.target.completions({**body, "stop": stop}))


@scenario("completions.seed-determinism", endpoint="completions", proves=("completions.seed.determinism",))
def completions_seed_determinism(ctx: Context) -> Proofs:
    """The same sampled request with the same seed gives the same text twice."""
    body = r.completion_body(max_tokens=8, temperature=1.0, seed=r.SEED)
    yield proof("completions.seed.determinism", ctx.target.completions(body), ctx.target.completions(body))


@scenario("completions.echo", endpoint="completions", proves=ECHO)
def completions_echo(ctx: Context) -> Proofs:
    """echo=true: the text starts with the prompt."""
    yield proof(ECHO, ctx.target.completions(r.completion_body(max_tokens=4, temperature=0, echo=True)))
