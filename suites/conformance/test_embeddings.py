"""Conformance of embeddings: shapes, order, dimensions, and base64 that decodes to the floats."""

from __future__ import annotations

from typing import Any

import pytest

from compat_suite.checks import PYTHON_CLIENTS, response_shape
from compat_suite.target import Target

INPUTS = ["The sky is blue.", "Grass is green.", "Snow is white."]
SHAPE = [*response_shape("embeddings"), *PYTHON_CLIENTS]

pytestmark = pytest.mark.endpoint("embeddings")


@pytest.fixture
def embeddings_target(target: Target) -> Target:
    target.require("embeddings")
    return target


def test_embeddings_float_and_base64(embeddings_target: Target, verify: Any) -> None:
    """A batch as floats passes every shape check; the same batch as base64 decodes to the same vectors."""
    plain = embeddings_target.embeddings({"input": INPUTS, "encoding_format": "float"})
    verify(SHAPE, plain)
    encoded = embeddings_target.embeddings({"input": INPUTS, "encoding_format": "base64"})
    verify(
        ["embeddings.response.schema", "embeddings.order.index", "embeddings.dimensions.consistent"], encoded
    )
    verify(["embeddings.base64.equals-float"], encoded, plain)


def test_embeddings_dimensions_param(embeddings_target: Target, verify: Any) -> None:
    """`dimensions` shortens every vector to exactly that length."""
    ex = embeddings_target.embeddings({"input": INPUTS[:2], "dimensions": 16, "encoding_format": "float"})
    verify(
        ["embeddings.response.schema", "embeddings.dimensions.param", "embeddings.dimensions.consistent"], ex
    )
