"""The embeddings endpoint's input and answer: the input's forms, checked, and the body with its
vectors as floats or base64, shortened to `dimensions` where asked."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Sequence
from typing import Any

from . import _limits as limits
from .errors import APIError

Json = dict[str, Any]


def embedding_inputs(value: Any) -> list[str | list[int]]:
    """A string, strings, a token array or token arrays, none of them empty."""
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list) and value and all(_is_token(v) for v in value):
        items = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise APIError(
            400, "input must be a string, an array of strings or an array of token arrays", param="input"
        )
    if not items:
        raise APIError(400, "input must not be empty", param="input")
    if len(items) > limits.MAX_EMBEDDING_INPUTS:
        raise APIError(400, f"input takes at most {limits.MAX_EMBEDDING_INPUTS} items", param="input")
    for i, item in enumerate(items):
        where = "input" if len(items) == 1 and not isinstance(value, list) else f"input[{i}]"
        if isinstance(item, str):
            if not item:
                raise APIError(400, f"{where} must not be an empty string", param=where)
        elif isinstance(item, list) and item and all(_is_token(t) for t in item):
            continue
        else:
            raise APIError(400, f"{where} must be a non-empty string or token array", param=where)
    return items


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def embeddings_body(
    vectors: list[list[float]], model: str, tokens: int, encoding: str, dimensions: int | None
) -> Json:
    if dimensions is not None:
        vectors = [_truncate(v, dimensions) for v in vectors]
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": _base64(v) if encoding == "base64" else v}
            for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _truncate(vector: Sequence[float], dimensions: int) -> list[float]:
    """The first `dimensions` components, scaled back to unit length."""
    head = list(vector[:dimensions])
    norm = math.sqrt(sum(x * x for x in head)) or 1.0
    return [x / norm for x in head]


def _base64(vector: Sequence[float]) -> str:
    """Little-endian float32 bytes, base64: what the openai SDK decodes."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
