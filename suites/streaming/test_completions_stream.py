"""Streamed legacy completions: SSE framing, chunk shapes, finish and usage, and real streaming."""

from __future__ import annotations

from typing import Any

import pytest

from compat_suite.checks import STREAM_FRAMING, stream_chunks
from compat_suite.target import Target

FRAMING = list(STREAM_FRAMING)
CHUNKS = list(stream_chunks("completions"))
USAGE = {"stream_options": {"include_usage": True}}
PROMPT = "The three primary colours are"

pytestmark = pytest.mark.endpoint("completions")


@pytest.fixture
def stream_target(target: Target) -> Target:
    target.require("completions")
    if not target.profile.streaming_supported:
        pytest.skip(f"profile {target.profile.name!r} documents no streaming")
    return target


def test_completions_stream(stream_target: Target, verify: Any, params: dict[str, Any]) -> None:
    """One stream passes every framing and chunk check, arrives as a stream, and matches the unary answer."""
    body = {"prompt": PROMPT, "max_tokens": params["max_tokens"], "temperature": 0, "seed": params["seed"]}
    streamed = stream_target.completions_stream({**body, **USAGE})
    verify(
        [
            *FRAMING,
            *CHUNKS,
            "stream.is-streamed",
            "clients.python-sdk.parse",
            "clients.python-async-sdk.parse",
        ],
        streamed,
    )
    verify(["stream.text.matches-unary"], streamed, stream_target.completions(body))


def test_completions_stream_n_choices(stream_target: Target, verify: Any, params: dict[str, Any]) -> None:
    """n=2 streamed: each choice finishes exactly once, usage comes last."""
    body = {"prompt": PROMPT, "max_tokens": 8, "n": 2, "temperature": 1.0, "seed": params["seed"]}
    verify([*FRAMING, *CHUNKS], stream_target.completions_stream({**body, **USAGE}))
