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

from ._invalid_requests import (
    COUNT_PARAMS,
    INVALID_KINDS,
    TYPE_PALETTE,
    UNKNOWN_ROLES,
    WRONG_CONTENT_TYPES,
    InvalidRequest,
    applicable_kinds,
    each_required_missing,
    invalid_requests,
)
from ._valid_requests import (
    ANSWER_SCHEMA,
    EXCLUDED,
    KEPT,
    REQUEST_COMPONENTS,
    TOOL_NAMES,
    TOOL_PARAMETERS,
    RequestLimits,
    narrowed_schema,
    valid_requests,
)

__all__ = [
    "ANSWER_SCHEMA",
    "COUNT_PARAMS",
    "EXCLUDED",
    "INVALID_KINDS",
    "KEPT",
    "REQUEST_COMPONENTS",
    "TOOL_NAMES",
    "TOOL_PARAMETERS",
    "TYPE_PALETTE",
    "UNKNOWN_ROLES",
    "WRONG_CONTENT_TYPES",
    "InvalidRequest",
    "RequestLimits",
    "applicable_kinds",
    "each_required_missing",
    "examples_within_budget",
    "invalid_requests",
    "narrowed_schema",
    "stop_from",
    "valid_requests",
]


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
