"""Streamed chat completions: SSE framing, chunk shapes, finish and usage, and real streaming."""

from __future__ import annotations

from typing import Any

import pytest

from compat_suite.checks import STREAM_FRAMING, stream_chunks
from compat_suite.target import Target

FRAMING = list(STREAM_FRAMING)
CHUNKS = list(stream_chunks("chat"))
USAGE = {"stream_options": {"include_usage": True}}

pytestmark = pytest.mark.endpoint("chat")


@pytest.fixture
def stream_target(target: Target) -> Target:
    target.require("chat")
    if not target.profile.streaming_supported:
        pytest.skip(f"profile {target.profile.name!r} documents no streaming")
    return target


def test_chat_stream(stream_target: Target, verify: Any, params: dict[str, Any]) -> None:
    """One stream passes every framing and chunk check, arrives as a stream, and matches the unary answer."""
    body = {
        "messages": [{"role": "user", "content": params["prompt"]}],
        "max_tokens": params["max_tokens"],
        "temperature": 0,
        "seed": params["seed"],
    }
    streamed = stream_target.chat_stream({**body, **USAGE})
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
    verify(["stream.text.matches-unary"], streamed, stream_target.chat(body))


def test_chat_stream_n_choices(stream_target: Target, verify: Any, params: dict[str, Any]) -> None:
    """n=2 streamed: each choice opens with the role and finishes exactly once."""
    body = {
        "messages": [{"role": "user", "content": params["prompt"]}],
        "max_tokens": 8,
        "n": 2,
        "temperature": 1.0,
        "seed": params["seed"],
    }
    verify([*FRAMING, *CHUNKS], stream_target.chat_stream({**body, **USAGE}))
