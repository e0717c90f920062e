"""Scenarios of embeddings: shapes, order, dimensions, and base64 that decodes to the floats."""

from __future__ import annotations

from ..checks import PYTHON_CLIENTS, response_shape
from . import _requests as r
from ._context import Context
from ._registry import Proofs, proof, scenario

SHAPE = (*response_shape("embeddings"), *PYTHON_CLIENTS)
BASE64 = ("embeddings.response.schema", "embeddings.order.index", "embeddings.dimensions.consistent")
DIMENSIONS = ("embeddings.response.schema", "embeddings.dimensions.param", "embeddings.dimensions.consistent")


@scenario(
    "embeddings.float-and-base64",
    endpoint="embeddings",
    proves=(*SHAPE, *BASE64, "embeddings.base64.equals-float"),
)
def embeddings_float_and_base64(ctx: Context) -> Proofs:
    """A batch as floats passes every shape check; the same batch as base64 decodes to the same vectors."""
    plain = ctx.target.embeddings({"input": r.EMBEDDING_INPUTS, "encoding_format": "float"})
    yield proof(SHAPE, plain)
    encoded = ctx.target.embeddings({"input": r.EMBEDDING_INPUTS, "encoding_format": "base64"})
    yield proof(BASE64, encoded)
    yield proof("embeddings.base64.equals-float", encoded, plain)


@scenario("embeddings.dimensions", endpoint="embeddings", proves=DIMENSIONS)
def embeddings_dimensions(ctx: Context) -> Proofs:
    """`dimensions` shortens every vector to exactly that length, or is refused with a 400 naming it."""
    body = {"input": r.EMBEDDING_INPUTS[:2], "dimensions": 16, "encoding_format": "float"}
    answer = ctx.target.embeddings(body)
    yield proof("embeddings.dimensions.param", answer, needs="none")  # a served or a refused answer
    if answer.status is not None and 400 <= answer.status < 500:
        return  # refused, as the spec allows for a model without it: nothing more to judge
    yield proof(("embeddings.response.schema", "embeddings.dimensions.consistent"), answer)
