"""Scenarios of unary legacy completions: shapes, usage, n, limits, stop, seed, echo."""

from __future__ import annotations

from ..checks import PYTHON_CLIENTS, response_shape
from ..target import Target
from . import _generation as g
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
# A legacy request takes its stop sequence as a bare string.
COMPLETIONS = g.Generation(
    Target.completions, r.completion_body, r.completion_text, stop=lambda word: word, answer="continuation"
)


@scenario("completions.basic", endpoint="completions", proves=SHAPE)
def completions_basic(ctx: Context) -> Proofs:
    """One plain request: every shape check, and the SDKs parse it."""
    yield from g.basic(COMPLETIONS, ctx, SHAPE)


@scenario("completions.n-choices", endpoint="completions", proves=N_CHOICES)
def completions_n_choices(ctx: Context) -> Proofs:
    """n=2 gets two choices, indexed 0 and 1."""
    yield from g.n_choices(COMPLETIONS, ctx, N_CHOICES)


@scenario("completions.max-tokens-binds", endpoint="completions", proves=MAX_TOKENS_BIND)
def completions_max_tokens_binds(ctx: Context) -> Proofs:
    """A limit shorter than any natural continuation is respected."""
    yield from g.max_tokens_binds(COMPLETIONS, ctx, MAX_TOKENS_BIND, "One, two, three, four,")


@scenario("completions.stop-sequence", endpoint="completions", proves=STOP)
def completions_stop_sequence(ctx: Context) -> Proofs:
    """A stop sequence taken from the model's own continuation cuts it before that point."""
    yield from g.stop_sequence(COMPLETIONS, ctx, STOP, "completions.response.schema")


@scenario("completions.seed-determinism", endpoint="completions", proves=("completions.seed.determinism",))
def completions_seed_determinism(ctx: Context) -> Proofs:
    """The same sampled request with the same seed gives the same text twice."""
    yield from g.seed_determinism(COMPLETIONS, ctx, "completions.seed.determinism")


@scenario("completions.echo", endpoint="completions", proves=ECHO)
def completions_echo(ctx: Context) -> Proofs:
    """echo=true: the text starts with the prompt."""
    yield proof(ECHO, ctx.target.completions(r.completion_body(max_tokens=4, temperature=0, echo=True)))
