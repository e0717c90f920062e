"""Faults that fail the embeddings checks: the answer's fields, its vectors and their encoding."""

from __future__ import annotations

import base64
import struct

from ._hooks import drop, items, on, put, request_edit, without
from ._registry import Fault, Json, fault

EMB = ("embeddings",)


def _ragged(payload: Json, request: Json) -> Json:
    found = items(payload)
    if found and isinstance(found[-1].get("embedding"), list):
        found[-1]["embedding"] = found[-1]["embedding"][:-1]
    elif found and isinstance(found[-1].get("embedding"), str):
        found[-1]["embedding"] = base64.b64encode(base64.b64decode(found[-1]["embedding"])[:-4]).decode()
    return payload


def _reversed(payload: Json, request: Json) -> Json:
    data = payload.get("data")
    return {**payload, "data": list(reversed(data))} if isinstance(data, list) else payload


def _big_endian(payload: Json, request: Json) -> Json:
    for item in items(payload):
        if isinstance(item.get("embedding"), str):
            raw = base64.b64decode(item["embedding"])
            values = struct.unpack(f"<{len(raw) // 4}f", raw)
            item["embedding"] = base64.b64encode(struct.pack(f">{len(values)}f", *values)).decode()
    return payload


fault(
    Fault(
        "embeddings-schema-model-missing",
        "embeddings.response.schema",
        "no `model`",
        response=on(EMB, drop("model")),
    )
)
fault(
    Fault(
        "embeddings-object-wrong",
        "embeddings.response.object",
        '`object` is "embeddings"',
        response=on(EMB, put("object", "embeddings")),
    )
)
fault(
    Fault(
        "embeddings-usage-missing",
        "embeddings.usage.present",
        "no `usage`",
        response=on(EMB, drop("usage")),
    )
)
fault(
    Fault(
        "embeddings-dimensions-ragged",
        "embeddings.dimensions.consistent",
        "the last vector is one value short",
        response=on(EMB, _ragged),
    )
)
fault(
    Fault(
        "embeddings-order-reversed",
        "embeddings.order.index",
        "data in reverse order",
        response=on(EMB, _reversed),
    )
)
fault(
    Fault(
        "embeddings-base64-big-endian",
        "embeddings.base64.equals-float",
        "base64 carries big-endian float32",
        response=on(EMB, _big_endian),
    )
)
fault(
    Fault(
        "embeddings-dimensions-ignored",
        "embeddings.dimensions.param",
        "drops `dimensions` before serving",
        request=request_edit(EMB, without("dimensions")),
    )
)
