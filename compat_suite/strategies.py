"""Hypothesis strategies for requests: valid ones drawn from `schemas/openapi.yaml`, and invalid ones
of every kind a client gets wrong.

Valid requests come from the request components themselves (via hypothesis-jsonschema), narrowed to
what any target can serve cheaply: the target's model, short text, a small `max_tokens` and `n`,
and only the parameters every OpenAI-compatible server is expected to honour, plus function tools
(`tools` with nested, enum, array and optional parameters, `tool_choice`, `parallel_tool_calls`,
the round trip of an assistant's calls and `tool` results) and `response_format` json_object and
json_schema (images, audio, logit_bias and other model features are left out; see `EXCLUDED`). A
narrowed request is still valid against the full component (tests/test_strategies.py proves it).

Invalid requests start from a valid one and break exactly one thing, so that the error a target
returns has one cause and, for a bad parameter, one parameter to name:
wrong types, out-of-range values, missing required fields, unknown roles, bytes that are not a
JSON object, and a JSON body sent under another content type.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from schemas import component_schema

Json = dict[str, Any]

REQUEST_COMPONENTS = {
    "chat": "CreateChatCompletionRequest",
    "completions": "CreateCompletionRequest",
    "embeddings": "CreateEmbeddingRequest",
}

# The parameters a valid request may carry, per endpoint: the documented core every
# OpenAI-compatible server serves. `model` and the body (messages/prompt/input) are always set.
KEPT = {
    "chat": (
        "temperature",
        "top_p",
        "n",
        "stop",
        "max_tokens",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "top_logprobs",
        "seed",
        "response_format",
        "user",
    ),
    "completions": (
        "temperature",
        "top_p",
        "n",
        "stop",
        "max_tokens",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "echo",
        "seed",
        "user",
    ),
    "embeddings": ("encoding_format", "user"),
}

# Why the rest of the documented space is left out of valid requests.
EXCLUDED = {
    "stream, stream_options": "streamed requests have their own strategy (`valid_requests(stream=True)`)",
    "functions, function_call": "deprecated by OpenAI in favour of tools, which are drawn",
    "image/audio/file content parts, modalities, audio": "multimodal input is a model feature",
    "logit_bias, token-id prompts and inputs": "token ids are vocabulary-specific",
    "best_of, suffix": "server-side search and insertion are legacy features few servers serve",
    "dimensions": "only Matryoshka models shorten embeddings (embeddings.dimensions.param checks it)",
    "message `name`": "its allowed characters differ between providers",
    "store, metadata, service_tier, reasoning_effort, verbosity, prompt_cache_key, safety_identifier": (
        "platform features, not part of generation"
    ),
    "x-extension parameters (ignore_eos, min_tokens)": "extensions beyond OpenAI's API",
}

# Function parameters as JSON Schemas: none, an enum and an optional field, a nested object in an array.
TOOL_PARAMETERS: tuple[Json, ...] = (
    {"type": "object", "properties": {}},
    {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
    {
        "type": "object",
        "properties": {
            "orders": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "integer", "minimum": 1}, "note": {"type": "string"}},
                    "required": ["id"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["orders"],
        "additionalProperties": False,
    },
)
TOOL_NAMES = ("get_weather", "lookup_orders", "get_time")
ANSWER_SCHEMA: Json = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}

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
class RequestLimits:
    """What "cheap" means for a generated request."""

    max_tokens: int = 8
    max_n: int = 2
    max_text: int = 40  # characters of a prompt, message or input
    max_messages: int = 3
    max_inputs: int = 3
    max_stop: int = 8  # characters of a stop sequence


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


# -- valid requests -----------------------------------------------------------------------------------
def narrowed_schema(endpoint: str, model: str | None, limits: RequestLimits = RequestLimits()) -> Json:
    """The request component of `endpoint`, narrowed to cheap requests for `model` (a JSON Schema).

    With `model=None` (a target that serves one model and makes the field optional) no `model` is sent.
    """
    full = component_schema(REQUEST_COMPONENTS[endpoint])
    props = full["properties"]
    text = {"type": "string", "minLength": 1, "maxLength": limits.max_text}
    kept: Json = {name: copy.deepcopy(props[name]) for name in KEPT[endpoint]}
    required = []
    if model is not None:
        kept["model"] = {"const": model}
        required.append("model")
    for name in ("n",):
        if name in kept:
            kept[name] = {**kept[name], "type": "integer", "minimum": 1, "maximum": limits.max_n}
    if "max_tokens" in kept:
        kept["max_tokens"] = {"type": "integer", "minimum": 1, "maximum": limits.max_tokens}
        required.append("max_tokens")  # never let a target generate to its own default length
    if "stop" in kept:
        stop = {"type": "string", "maxLength": limits.max_stop}
        kept["stop"] = {
            "anyOf": [{"type": "null"}, stop, {"type": "array", "minItems": 1, "maxItems": 4, "items": stop}]
        }
    if "response_format" in kept:
        kept["response_format"] = {"$ref": "#/$defs/ResponseFormatText"}
    if endpoint == "chat":
        kept["messages"] = {
            "type": "array",
            "minItems": 1,
            "maxItems": limits.max_messages,
            "items": _message_schema(text),
        }
        required.append("messages")
    elif endpoint == "completions":
        kept["prompt"] = text
        required.append("prompt")
    else:
        kept["input"] = {
            "anyOf": [text, {"type": "array", "minItems": 1, "maxItems": limits.max_inputs, "items": text}]
        }
        required.append("input")
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": kept,
        "$defs": full["$defs"],
    }


def _message_schema(text: Json) -> Json:
    """Text messages of the roles every chat model takes."""
    parts = {
        "type": "array",
        "minItems": 1,
        "maxItems": 2,
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type", "text"],
            "properties": {"type": {"const": "text"}, "text": text},
        },
    }
    content = {"anyOf": [text, parts]}

    def role(name: str, body: Json) -> Json:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": ["role", "content"],
            "properties": {"role": {"const": name}, "content": body},
        }

    return {
        "anyOf": [
            role("system", content),
            role("developer", content),
            role("user", content),
            role("assistant", text),
        ]
    }


def valid_requests(
    endpoint: str,
    model: str | None,
    *,
    limits: RequestLimits = RequestLimits(),
    stream: bool = False,
) -> st.SearchStrategy[Json]:
    """Valid, cheap request bodies for `endpoint` (chat, completions or embeddings).

    With `stream=True` (chat and completions) each body asks for a stream, with
    `stream_options.include_usage` drawn true or false.
    """
    if stream and endpoint not in ("chat", "completions"):
        raise ValueError(f"{endpoint} does not stream")
    bodies = _object_strategy(_schema_for_hypothesis(endpoint, model, limits))

    @st.composite
    def requests(draw: st.DrawFn) -> Json:
        body = _consistent(draw(bodies))
        if endpoint == "chat" and draw(st.booleans()):
            # The documented successor of max_tokens: both spellings must be served.
            body["max_completion_tokens"] = body.pop("max_tokens")
        if endpoint == "chat":
            body.update(draw(_structured(body["messages"])))
        if stream:
            body["stream"] = True
            if draw(st.booleans()):
                body["stream_options"] = {"include_usage": True}
        return body

    return requests()


@cache
def _schema_text(endpoint: str, model: str | None, limits: RequestLimits) -> str:
    return json.dumps(narrowed_schema(endpoint, model, limits))


def _schema_for_hypothesis(endpoint: str, model: str | None, limits: RequestLimits) -> Json:
    # hypothesis-jsonschema resolves every `$ref` it meets; carrying only the definitions the
    # narrowed schema uses keeps it away from the recursive ones (tool parameters, JSON schemas).
    schema = json.loads(_schema_text(endpoint, model, limits))
    used = set(_refs(schema["properties"]))
    schema["$defs"] = {k: v for k, v in schema["$defs"].items() if k in _closure(schema["$defs"], used)}
    return schema


def _object_strategy(schema: Json) -> st.SearchStrategy[Json]:
    """Objects of a closed object schema, one hypothesis-jsonschema strategy per property (drawing
    the whole object through one strategy is about four times slower)."""
    defs = schema["$defs"]
    props = {name: _property_strategy(sub, defs) for name, sub in schema["properties"].items()}
    required = {name: props[name] for name in schema["required"]}
    optional = {name: strat for name, strat in props.items() if name not in required}
    return st.fixed_dictionaries(required, optional=optional)


def _property_strategy(schema: Json, defs: Json) -> st.SearchStrategy[Any]:
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, dict) and "anyOf" in items:
        # A list of alternatives (chat messages by role): one strategy per alternative is faster.
        return st.lists(
            st.one_of([from_schema({**branch, "$defs": defs}) for branch in items["anyOf"]]),
            min_size=schema.get("minItems", 0),
            max_size=schema.get("maxItems"),
        )
    return from_schema({**schema, "$defs": defs})


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            yield ref.rsplit("/", 1)[1]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _closure(defs: Json, names: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        todo.extend(_refs(defs[name]))
    return seen


@st.composite
def _structured(draw: st.DrawFn, messages: list[Json]) -> Json:
    """Tools (sometimes with tool_choice, parallel_tool_calls and a round trip already in the
    messages) and a response_format: the parameters of tool calling and structured output."""
    out: Json = {}
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(TOOL_NAMES), min_size=1, max_size=3, unique=True))
        out["tools"] = [
            {
                "type": "function",
                "function": {"name": name, "parameters": draw(st.sampled_from(TOOL_PARAMETERS))},
            }
            for name in names
        ]
        choice = draw(st.sampled_from((None, "none", "auto", "required", "named")))
        if choice == "named":
            out["tool_choice"] = {"type": "function", "function": {"name": draw(st.sampled_from(names))}}
        elif choice is not None:
            out["tool_choice"] = choice
        parallel = draw(st.sampled_from((None, True, False)))
        if parallel is not None:
            out["parallel_tool_calls"] = parallel
        if draw(st.booleans()):  # the round trip: the assistant's call (content null or ""), its result
            call = {"id": "call_0", "type": "function", "function": {"name": names[0], "arguments": "{}"}}
            assistant = {
                "role": "assistant",
                "content": draw(st.sampled_from((None, ""))),
                "tool_calls": [call],
            }
            out["messages"] = [
                *messages,
                assistant,
                {"role": "tool", "tool_call_id": "call_0", "content": "done"},
            ]
    fmt = draw(st.sampled_from((None, "json_object", "json_schema", "strict")))
    if fmt == "json_object":  # OpenAI asks that the messages say "JSON" in this mode
        out["messages"] = [{"role": "system", "content": "Answer in JSON."}, *out.get("messages", messages)]
        out["response_format"] = {"type": "json_object"}
    elif fmt is not None:
        spec = {"name": "answer", "schema": ANSWER_SCHEMA, **({"strict": True} if fmt == "strict" else {})}
        out["response_format"] = {"type": "json_schema", "json_schema": spec}
    return out


def _consistent(body: Json) -> Json:
    """Apply the documented rules between parameters that a schema does not state."""
    if body.get("top_logprobs") is not None:
        body["logprobs"] = True  # chat: top_logprobs requires logprobs: true
    return body


# -- invalid requests ---------------------------------------------------------------------------------
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


# -- running properties within the request budget ----------------------------------------------------
def examples_within_budget(sent: int, max_requests: int | None, wanted: int, per_example: int = 1) -> int:
    """How many examples of `per_example` requests each fit in what is left of `max_requests`
    (at most `wanted`; all `wanted` when there is no cap)."""
    if max_requests is None:
        return wanted
    return max(0, min(wanted, (max_requests - sent) // per_example))


def stop_from(text: str) -> str | None:
    """A stop sequence for a second request: a word from the second half of an earlier answer
    `text` (with its leading space where it has one), or None when the answer is too short."""
    words = text.split()
    if len(words) < 2:
        return None
    word = words[len(words) // 2]
    return " " + word if (" " + word) in text else word
