"""Conformance checks: plain functions with stable ids, reported by id."""

from ._registry import MUST, SHOULD, Check, Finding, Outcome, Severity, Unjudged, check, get, registry, run
from ._sets import (
    PYTHON_CLIENTS,
    REFUSAL,
    STREAM_FRAMING,
    TOOL_CALLS,
    TOOL_EFFECTS,
    TOOL_STREAM,
    TRANSPORT,
    response_shape,
    stream_checks,
    stream_chunks,
)

__all__ = [
    "MUST",
    "PYTHON_CLIENTS",
    "REFUSAL",
    "SHOULD",
    "STREAM_FRAMING",
    "TOOL_CALLS",
    "TOOL_EFFECTS",
    "TOOL_STREAM",
    "TRANSPORT",
    "Check",
    "Finding",
    "Outcome",
    "Severity",
    "Unjudged",
    "check",
    "get",
    "registry",
    "response_shape",
    "run",
    "stream_checks",
    "stream_chunks",
]
