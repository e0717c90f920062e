"""Valid request bodies, drawn from the request components of `schemas/openapi.yaml` (via
hypothesis-jsonschema) and narrowed to what any target can serve cheaply (see `compat_suite.strategies`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from schemas import component_schema

Json = dict[str, Any]

REQUEST_COMPONENTS = {
    "chat": "CreateChatCompletionRequest",
    "completions": "CreateCompletionRequest",
    "embeddings": "CreateEmbeddingRequest",
}

# The parameters a valid request may carry, per endpoint: the documented core every
# OpenAI-compatible server serves. `model` and the body (messages/prompt/input) are always set.
_SAMPLING = (
    "temperature",
    "top_p",
    "n",
    "stop",
    "max_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logprobs",
)
KEPT = {
    "chat": (*_SAMPLING, "top_logprobs", "seed", "response_format", "user"),
    "completions": (*_SAMPLING, "echo", "seed", "user"),
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


@dataclass(frozen=True)
class RequestLimits:
    """What "cheap" means for a generated request."""

    max_tokens: int = 8
    max_n: int = 2
    max_text: int = 40  # characters of a prompt, message or input
    max_messages: int = 3
    max_inputs: int = 3
    max_stop: int = 8  # characters of a stop sequence


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
