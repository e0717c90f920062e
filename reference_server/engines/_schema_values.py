"""A JSON value that a JSON Schema accepts, drawn deterministically from a seeded generator.

The scripted engine writes its tool arguments and `json_schema` answers with this, so that the fast
tests and the fault self-tests meet every branch of the schemas they send (objects, nested objects,
enums, arrays, optional fields, numbers in a range) without a model. It covers the keywords tool
schemas use; a keyword it does not know is left to chance, and `tests/test_server_tools.py` checks
the values it makes against the schemas with jsonschema.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

WORDS = ("paris", "london", "blue", "river", "stone", "garden", "north", "music", "coffee", "light")
MAX_DEPTH = 8  # a recursive schema ends in the simplest value past this depth


def value_for(schema: Any, rng: random.Random, root: Mapping[str, Any] | None = None, depth: int = 0) -> Any:
    """A value `schema` accepts (`root` resolves local `$ref`s; it defaults to `schema`)."""
    root = schema if root is None else root
    if schema is True or not isinstance(schema, Mapping):
        return "value"
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        return value_for(_resolve(root, ref), rng, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return rng.choice(list(schema["enum"]))
    for combinator in ("anyOf", "oneOf"):
        if schema.get(combinator):
            return value_for(schema[combinator][0], rng, root, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part if isinstance(part, Mapping) else {})
        return value_for(merged, rng, root, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if depth > MAX_DEPTH and kind in ("object", "array"):
        return {} if kind == "object" else []
    make = _MAKERS.get(kind, _string)
    return make(schema, rng, root, depth)


def _resolve(root: Mapping[str, Any], ref: str) -> Any:
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, Mapping) else {}
    return node


def _object(schema: Mapping[str, Any], rng: random.Random, root: Any, depth: int) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    out = {}
    for name, sub in properties.items():
        if name in required or rng.random() < 0.5:  # optional fields: sometimes
            out[name] = value_for(sub, rng, root, depth + 1)
    for name in required - set(out):  # required but not described: any value
        out[name] = "value"
    return out


def _array(schema: Mapping[str, Any], rng: random.Random, root: Any, depth: int) -> list[Any]:
    low = int(schema.get("minItems", 1))
    high = max(low, min(int(schema.get("maxItems", low + 2)), low + 2))
    items = schema.get("items", {})
    return [value_for(items, rng, root, depth + 1) for _ in range(rng.randint(low, high))]


def _string(schema: Mapping[str, Any], rng: random.Random, root: Any, depth: int) -> str:
    low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 40))
    text = rng.choice(WORDS)
    while len(text) < low:
        text += " " + rng.choice(WORDS)
    return text[: max(high, low)]


def _integer(schema: Mapping[str, Any], rng: random.Random, root: Any, depth: int) -> int:
    low, high = _bounds(schema, 0, 100)
    return rng.randint(int(-(-low // 1)), max(int(low), int(high)))


def _number(schema: Mapping[str, Any], rng: random.Random, root: Any, depth: int) -> float:
    low, high = _bounds(schema, 0.0, 100.0)
    return round(rng.uniform(low, high), 2) if high > low else float(low)


def _bounds(schema: Mapping[str, Any], low: float, high: float) -> tuple[float, float]:
    low = schema.get("minimum", schema.get("exclusiveMinimum", low - 1) + 1)
    high = schema.get("maximum", schema.get("exclusiveMaximum", high + 1) - 1)
    return low, max(low, high)


_MAKERS = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": lambda schema, rng, root, depth: rng.random() < 0.5,
    "null": lambda schema, rng, root, depth: None,
}
