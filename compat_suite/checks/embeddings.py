"""Checks of embeddings (`POST /embeddings`), float and base64 encodings."""

from __future__ import annotations

import base64
import binascii
import math
import struct
from typing import Any

from ..exchange import Exchange
from . import _common as c
from ._registry import MUST, SHOULD, Finding, check

ENDPOINTS = ("embeddings",)
# See embeddings_base64_equals_float for why these bounds.
MIN_COSINE = 0.999
COMPONENT_TOLERANCE = 0.01  # of the float vector's largest magnitude


def is_base64(exchange: Exchange) -> bool:
    return c.request_body(exchange).get("encoding_format") == "base64"


def decode_base64(value: Any) -> list[float]:
    """A base64 embedding as floats (little-endian float32); ValueError when it is not one."""
    if not isinstance(value, str):
        raise ValueError(f"expected a base64 string, got {c.short(value)}")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64: {exc}") from exc
    if len(raw) % 4:
        raise ValueError(f"{len(raw)} bytes is not a whole number of float32 values")
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def vectors(exchange: Exchange) -> list[tuple[Any, list[float]]]:
    """(index, vector) for each item of `data`, decoding base64; a Finding when one is not a vector."""
    data = c.body(exchange).get("data")
    if not isinstance(data, list) or not data:
        raise Finding(f"`data` is {c.short(data)}, expected a non-empty list", c.evidence(exchange))
    out = []
    for i, item in enumerate(data):
        raw = item.get("embedding") if isinstance(item, dict) else None
        index = c.index_of(item, i) if isinstance(item, dict) else i
        try:
            if isinstance(raw, str):
                vec = decode_base64(raw)
            elif isinstance(raw, list) and all(c.is_number(v) for v in raw):
                vec = [float(v) for v in raw]
            else:
                raise ValueError(f"expected a list of finite numbers or base64, got {c.short(raw)}")
        except ValueError as exc:
            raise Finding(f"data[{i}].embedding: {exc}", c.evidence(exchange)) from None
        out.append((index, vec))
    return out


def input_count(request: dict[str, Any]) -> int | None:
    """How many embeddings the request asks for (None when the input is not a recognised shape)."""
    value = request.get("input")
    if isinstance(value, str):
        return 1
    if isinstance(value, list) and value:
        if all(c.is_int(v) for v in value):
            return 1  # one input given as token ids
        return len(value)
    return None


@check("embeddings.response.schema", severity=MUST, endpoints=ENDPOINTS)
def embeddings_response_schema(exchange: Exchange) -> None:
    """The response validates against CreateEmbeddingResponse (or its base64 form when requested)."""
    component = "CreateEmbeddingResponseBase64" if is_base64(exchange) else "CreateEmbeddingResponse"
    c.schema_check(exchange, component, c.body(exchange))


@check("embeddings.response.object", severity=MUST, endpoints=ENDPOINTS)
def embeddings_response_object(exchange: Exchange) -> None:
    """`object` is "list" and every item's `object` is "embedding"."""
    c.expect_object(exchange, "list")
    data = c.body(exchange).get("data")
    items = data if isinstance(data, list) else []
    bad = {i: item.get("object") if isinstance(item, dict) else item for i, item in enumerate(items)}
    bad = {i: v for i, v in bad.items() if v != "embedding"}
    if bad:
        raise Finding(
            f'data items whose `object` is not "embedding": {c.short(bad)}', c.evidence(exchange, bad=bad)
        )


@check("embeddings.usage.present", severity=MUST, endpoints=ENDPOINTS)
def embeddings_usage_present(exchange: Exchange) -> None:
    """`usage` reports prompt_tokens and total_tokens as non-negative integers."""
    c.expect_usage(exchange, ("prompt_tokens", "total_tokens"))


@check("embeddings.dimensions.consistent", severity=MUST, endpoints=ENDPOINTS)
def embeddings_dimensions_consistent(exchange: Exchange) -> None:
    """Every vector has the same, non-zero length and finite values."""
    lengths = {index: len(vec) for index, vec in vectors(exchange)}
    if len(set(lengths.values())) != 1 or 0 in lengths.values():
        raise Finding(
            f"vector lengths differ or are empty: {c.short(lengths)}", c.evidence(exchange, lengths=lengths)
        )
    bad = [index for index, vec in vectors(exchange) if not all(math.isfinite(v) for v in vec)]
    if bad:
        raise Finding(f"vectors {bad} hold NaN or infinity", c.evidence(exchange, indices=bad))


@check("embeddings.order.index", severity=MUST, endpoints=ENDPOINTS)
def embeddings_order_index(exchange: Exchange) -> None:
    """One embedding per input, and data[i].index == i."""
    data = c.body(exchange).get("data")
    items = data if isinstance(data, list) else []
    indices = [item.get("index") if isinstance(item, dict) else None for item in items]
    indices = [i if c.is_int(i) else c.short(i) for i in indices]  # `true` is not index 1
    expected = input_count(c.request_body(exchange))
    if expected is not None and len(items) != expected:
        raise Finding(
            f"{expected} input(s) but {len(items)} embedding(s)", c.evidence(exchange, indices=indices)
        )
    if indices != list(range(len(items))):
        raise Finding(f"data is not in input order: indices {indices}", c.evidence(exchange, indices=indices))


@check("embeddings.base64.equals-float", severity=MUST, endpoints=ENDPOINTS)
def embeddings_base64_equals_float(base64_exchange: Exchange, float_exchange: Exchange) -> None:
    """The base64 answer decodes (little-endian float32) to the float answer for the same input.

    The two answers come from two requests, and a real server does not compute an embedding bit for
    bit the same twice: batched GPU kernels sum in a different order from call to call, which moves a
    normalised vector's components by 1e-4 and more (float32 rounding alone is 2^-24 of a value).
    So the vectors are compared by direction and by size, not to 1e-6: a cosine similarity of at least
    MIN_COSINE, and no component off by more than COMPONENT_TOLERANCE of the vector's largest. A wrong
    encoding stays far outside both: big-endian bytes or float64 read as float32 give noise (cosine
    near 0) or twice the values, float16 half as many."""
    if c.request_body(base64_exchange).get("input") != c.request_body(float_exchange).get("input"):
        raise Finding(
            "the two answers are for different inputs; the comparison needs the same input twice",
            {"base64": c.evidence(base64_exchange), "float": c.evidence(float_exchange)},
        )
    encoded, plain = vectors(base64_exchange), vectors(float_exchange)
    both = {"base64": c.evidence(base64_exchange), "float": c.evidence(float_exchange)}
    if len(encoded) != len(plain):
        raise Finding(f"base64 answer has {len(encoded)} vectors, float answer {len(plain)}", both)
    for (index, a), (_, b) in zip(encoded, plain, strict=True):
        if len(a) != len(b):
            raise Finding(
                f"vector {index}: base64 decodes to {len(a)} values, float answer has {len(b)}", both
            )
        scale = max((abs(y) for y in b), default=0.0) or 1.0
        worst = max((abs(x - _float32(y)) for x, y in zip(a, b, strict=True)), default=0.0)
        cosine = _cosine(a, b)
        if cosine < MIN_COSINE or worst > COMPONENT_TOLERANCE * scale:
            raise Finding(
                f"vector {index}: base64 and float answers differ (cosine {cosine:.6f}, "
                f"largest component difference {worst:.3g} of {scale:.3g})",
                {"base64_head": a[:8], "float_head": b[:8], **both},
            )


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms and math.isfinite(norms) and math.isfinite(dot) else 0.0


def _float32(value: float) -> float:
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return math.inf


@check("embeddings.dimensions.param", severity=SHOULD, endpoints=ENDPOINTS)
def embeddings_dimensions_param(exchange: Exchange) -> None:
    """`dimensions` is honoured (every vector has exactly that many values) or refused with a 400 that
    names it: the spec documents it only for models that support it ("Only supported in
    text-embedding-3 and later models", CreateEmbeddingRequest.dimensions)."""
    wanted = c.request_body(exchange).get("dimensions")
    if not c.is_int(wanted):
        return  # not requested
    if exchange.status is not None and 400 <= exchange.status < 500:
        error = exchange.json.get("error") if isinstance(exchange.json, dict) else None
        named = isinstance(error, dict) and (
            error.get("param") == "dimensions" or "dimensions" in str(error.get("message"))
        )
        if not named:
            raise Finding(
                f"`dimensions` refused with {exchange.status}, but the error does not name it",
                c.evidence(exchange, error=error),
            )
        return
    lengths = {index: len(vec) for index, vec in vectors(exchange)}
    bad = {i: n for i, n in lengths.items() if n != wanted}
    if bad:
        raise Finding(
            f"requested dimensions={wanted}; got lengths {c.short(bad)}", c.evidence(exchange, lengths=bad)
        )
