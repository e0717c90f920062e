"""Invalid request bodies: each starts from a valid one and breaks exactly one thing, so that the
error a target returns has one cause and, for a bad parameter, one parameter to name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from schemas import component_schema

from ._valid_requests import KEPT, REQUEST_COMPONENTS, Json, RequestLimits, valid_requests

# Count-like parameters: raising them multiplies a paid target's cost if it wrongly accepts the
# value, so out-of-range values for them are only drawn below the minimum.
COUNT_PARAMS = frozenset({"n", "max_tokens", "max_completion_tokens", "best_of", "top_logprobs", "logprobs"})
# Values of each JSON type, to put where another type is required (`null` is left out: servers
# commonly and legitimately read it as "not given").
TYPE_PALETTE: dict[str, Any] = {
    "string": "not-of-this-type",
    "integer": 7,
    "number": 0.5,
    "boolean": True,
    "object": {"unexpected": 1},
    "array": [1, 2],
}
WRONG_CONTENT_TYPES = (
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/xml",
    "text/html; charset=utf-8",
    "multipart/form-data; boundary=compat-suite",
)
# Roles no OpenAI-compatible API knows (`function` is OpenAI's deprecated but accepted role).
UNKNOWN_ROLES = ("bot", "human", "model", "System", "USER", "narrator", "")
INVALID_KINDS = (
    "wrong-type",
    "out-of-range",
    "missing-required",
    "unknown-role",
    "malformed-json",
    "wrong-content-type",
)


@dataclass(frozen=True)
class InvalidRequest:
    """A request body that a target must refuse with a 4xx and the error envelope."""

    kind: str  # one of INVALID_KINDS
    body: bytes
    content_type: str = "application/json"
    param: str | None = None  # the parameter at fault, where one parameter is
    note: str = ""  # what is wrong, for a report
    # the JSON value of the body, when it is JSON (for evidence and shrinking output)
    value: Any = field(default=None, compare=False)

    def __repr__(self) -> str:
        shown = self.body[:200].decode("utf-8", errors="backslashreplace")
        return f"InvalidRequest({self.kind}: {self.note}; {self.content_type}; {shown!r})"


def applicable_kinds(endpoint: str) -> tuple[str, ...]:
    """The kinds of invalid request that exist for `endpoint` (unknown roles need messages)."""
    return tuple(k for k in INVALID_KINDS if k != "unknown-role" or endpoint == "chat")


def invalid_requests(
    endpoint: str,
    model: str | None,
    *,
    kinds: tuple[str, ...] | None = None,
    model_required: bool = True,
    limits: RequestLimits = RequestLimits(),
) -> st.SearchStrategy[InvalidRequest]:
    """Request bodies for `endpoint` that break exactly one rule, of the given kinds (default: all
    that apply). With `model_required=False` (a target whose profile makes `model` optional), a
    missing `model` is not drawn as a mistake."""
    wanted = applicable_kinds(endpoint) if kinds is None else kinds
    unknown = [k for k in wanted if k not in applicable_kinds(endpoint)]
    if unknown or not wanted:
        raise ValueError(f"invalid-request kinds {unknown or wanted} do not apply to {endpoint}")
    base = valid_requests(endpoint, model, limits=limits)
    builders = {
        "wrong-type": lambda: _replaced(base, _wrong_type_candidates(endpoint), "wrong-type"),
        "out-of-range": lambda: _replaced(base, _out_of_range_candidates(endpoint), "out-of-range"),
        "missing-required": lambda: _missing_required(base, endpoint, model_required and model is not None),
        "unknown-role": lambda: _unknown_role(base),
        "malformed-json": lambda: _malformed_json(base),
        "wrong-content-type": lambda: _wrong_content_type(base),
    }
    return st.one_of([builders[k]() for k in wanted])


def _encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


@cache
def _property_schemas(endpoint: str) -> tuple[tuple[str, Json], ...]:
    """(name, schema with $defs) of each request parameter the invalid strategies may break."""
    full = component_schema(REQUEST_COMPONENTS[endpoint])
    names = {"model", *KEPT[endpoint], "stream"}
    names |= {"messages", "max_completion_tokens"} if endpoint == "chat" else set()
    names |= {"prompt"} if endpoint == "completions" else set()
    names |= {"input", "dimensions"} if endpoint == "embeddings" else set()
    return tuple(
        (name, {**full["properties"][name], "$defs": full["$defs"]})
        for name in sorted(names)
        if name in full["properties"]
    )


def _is_valid(schema: Json, value: Any) -> bool:
    return Draft202012Validator(schema).is_valid(value)


@cache
def _wrong_type_candidates(endpoint: str) -> tuple[tuple[str, Any, str], ...]:
    """(param, value, note) for each parameter and each JSON type it does not take."""
    out = []
    for name, schema in _property_schemas(endpoint):
        allowed = _json_types(schema, schema["$defs"])
        for type_name, value in TYPE_PALETTE.items():
            of_allowed_type = type_name in allowed or (type_name == "integer" and "number" in allowed)
            if not of_allowed_type and not _is_valid(schema, value):
                out.append((name, value, f"{name} as {type_name} {json.dumps(value)}"))
    return tuple(out)


def _json_types(schema: Json, defs: Json) -> set[str]:
    """The JSON types a schema admits (every type where it does not say)."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _json_types(defs[ref.rsplit("/", 1)[1]], defs)
    branches = [*schema.get("anyOf", []), *schema.get("oneOf", [])]
    if branches:
        return set().union(*(_json_types(b, defs) for b in branches))
    if "const" in schema or "enum" in schema:
        values = [schema["const"]] if "const" in schema else schema["enum"]
        return {_type_name(v) for v in values}
    types = schema.get("type")
    if types is None:
        return {*TYPE_PALETTE, "null"}
    return set(types) if isinstance(types, list) else {types}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


@cache
def _out_of_range_candidates(endpoint: str) -> tuple[tuple[str, Any, str], ...]:
    """(param, value, note) just past each documented bound: numeric ranges, item counts, enums."""
    out = []
    for name, schema in _property_schemas(endpoint):
        seen: list[Any] = []
        for value in _past_bounds(name, schema, schema["$defs"]):
            if value not in seen and not _is_valid(schema, value):
                seen.append(value)
                out.append((name, value, f"{name}={json.dumps(value)[:60]} is out of range"))
    return tuple(out)


def _past_bounds(name: str, schema: Json, defs: Json) -> Iterator[Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        yield from _past_bounds(name, defs[ref.rsplit("/", 1)[1]], defs)
    for branch in [*schema.get("anyOf", []), *schema.get("oneOf", [])]:
        yield from _past_bounds(name, branch, defs)
    types = schema.get("type")
    types = set(types) if isinstance(types, list) else {types}
    integer = "integer" in types and "number" not in types
    if "minimum" in schema:
        low = schema["minimum"]
        yield from ((low - 1,) if integer else (low - 0.5, low - 100))
    if "maximum" in schema and name not in COUNT_PARAMS:
        high = schema["maximum"]
        yield from ((high + 1,) if integer else (high + 0.5, high + 100))
    if "array" in types:
        if schema.get("minItems", 0) >= 1:
            yield []
        if 0 < schema.get("maxItems", 1000) <= 16:
            yield [f"s{i}" for i in range(schema["maxItems"] + 1)]
    if "enum" in schema and "string" in types:
        yield "not-a-documented-value"
    if "string" in types and schema.get("minLength", 0) >= 1:
        yield ""


def _replaced(
    base: st.SearchStrategy[Json], candidates: tuple[tuple[str, Any, str], ...], kind: str
) -> st.SearchStrategy[InvalidRequest]:
    @st.composite
    def build(draw: st.DrawFn) -> InvalidRequest:
        body = draw(base)
        name, value, note = draw(st.sampled_from(candidates))
        if name == "max_tokens":
            body.pop("max_completion_tokens", None)  # one limit, the broken one
        if name == "max_completion_tokens":
            body.pop("max_tokens", None)
        body[name] = value
        return InvalidRequest(kind, _encode(body), param=name, note=note, value=body)

    return build()


def _missing_required(
    base: st.SearchStrategy[Json], endpoint: str, model_required: bool
) -> st.SearchStrategy[InvalidRequest]:
    required = [
        name
        for name in component_schema(REQUEST_COMPONENTS[endpoint])["required"]
        if model_required or name != "model"
    ]

    @st.composite
    def build(draw: st.DrawFn) -> InvalidRequest:
        body = draw(base)
        name = draw(st.sampled_from(required))
        body.pop(name, None)
        return InvalidRequest("missing-required", _encode(body), param=name, note=f"no {name}", value=body)

    return build()


# The smallest valid body of each endpoint, for the explicit examples below.
_MINIMAL = {
    "chat": lambda model: {
        "model": model,
        "messages": [{"role": "user", "content": "Say hi."}],
        "max_tokens": 1,
    },
    "completions": lambda model: {"model": model, "prompt": "Say hi.", "max_tokens": 1},
    "embeddings": lambda model: {"model": model, "input": "Say hi."},
}


def each_required_missing(
    endpoint: str, model: str | None, *, model_required: bool = True
) -> list[InvalidRequest]:
    """One request per required field of `endpoint`'s request component, with that field dropped from
    the smallest valid body: every required field is dropped in turn, not only the one a random draw
    happens to pick (`model` only where the target requires it)."""
    out = []
    for name in component_schema(REQUEST_COMPONENTS[endpoint])["required"]:
        if name == "model" and not (model_required and model is not None):
            continue
        body = {k: v for k, v in _MINIMAL[endpoint](model).items() if k != name and v is not None}
        out.append(
            InvalidRequest("missing-required", _encode(body), param=name, note=f"no {name}", value=body)
        )
    return out


def _unknown_role(base: st.SearchStrategy[Json]) -> st.SearchStrategy[InvalidRequest]:
    known = set(component_schema("ChatCompletionRole")["enum"]) | {"function"}
    roles = st.one_of(
        st.sampled_from(UNKNOWN_ROLES),
        st.text(min_size=1, max_size=12).filter(lambda r: r not in known),
    )

    @st.composite
    def build(draw: st.DrawFn) -> InvalidRequest:
        body = draw(base)
        i = draw(st.integers(0, len(body["messages"]) - 1))
        role = draw(roles)
        body["messages"][i] = {**body["messages"][i], "role": role}
        param = f"messages[{i}].role"
        return InvalidRequest("unknown-role", _encode(body), param=param, note=f"role {role!r}", value=body)

    return build()


def _malformed_json(base: st.SearchStrategy[Json]) -> st.SearchStrategy[InvalidRequest]:
    """Bytes that are not a JSON object: cut short, JS-isms, NaN, invalid UTF-8, other JSON values."""

    @st.composite
    def build(draw: st.DrawFn) -> InvalidRequest:
        raw = _encode(draw(base))
        how = draw(
            st.sampled_from(
                (
                    "truncated",
                    "trailing-comma",
                    "single-quotes",
                    "nan",
                    "invalid-utf8",
                    "not-an-object",
                    "garbage",
                )
            )
        )
        if how == "truncated":
            body = raw[: draw(st.integers(0, len(raw) - 1))]
        elif how == "trailing-comma":
            body = raw[:-1] + b",}"
        elif how == "single-quotes":
            body = raw.replace(b'"', b"'")
        elif how == "nan":
            body = b'{"temperature": NaN, ' + raw[1:]
        elif how == "invalid-utf8":
            at = raw.index(b'"') + 1  # inside the first key
            body = raw[:at] + b"\xff\xfe" + raw[at:]
        elif how == "not-an-object":
            body = draw(st.sampled_from((b"[]", b'"text"', b"42", b"null", b"true", b"[" + raw + b"]")))
        else:
            body = draw(st.binary(min_size=1, max_size=64).filter(_not_a_json_object))
        return InvalidRequest("malformed-json", body, note=how)

    return build()


def _not_a_json_object(raw: bytes) -> bool:
    try:
        return not isinstance(json.loads(raw), dict)
    except (ValueError, UnicodeDecodeError):
        return True


def _wrong_content_type(base: st.SearchStrategy[Json]) -> st.SearchStrategy[InvalidRequest]:
    @st.composite
    def build(draw: st.DrawFn) -> InvalidRequest:
        body = draw(base)
        content_type = draw(st.sampled_from(WRONG_CONTENT_TYPES))
        return InvalidRequest(
            "wrong-content-type", _encode(body), content_type=content_type, note=content_type, value=body
        )

    return build()
