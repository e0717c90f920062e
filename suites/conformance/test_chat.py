"""Conformance of unary chat completions: shapes, usage, n, limits, stop, seed, logprobs, JSON mode.

Each scenario sends one or two small requests (temperature 0 where a comparison needs it).
"""

from __future__ import annotations

from typing import Any

import pytest

from compat_suite.checks import PYTHON_CLIENTS, response_shape
from compat_suite.strategies import stop_from
from compat_suite.target import Target

SHAPE = [*response_shape("chat"), *PYTHON_CLIENTS]

pytestmark = pytest.mark.endpoint("chat")


def messages(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture
def chat_target(target: Target) -> Target:
    target.require("chat")
    return target


def test_chat_basic(chat_target: Target, verify: Any, params: dict[str, Any]) -> None:
    """One plain request: every shape check, and the SDKs parse it."""
    ex = chat_target.chat(
        {"messages": messages(params["prompt"]), "max_tokens": params["max_tokens"], "temperature": 0}
    )
    verify(SHAPE, ex)


def test_chat_n_choices(chat_target: Target, verify: Any, params: dict[str, Any]) -> None:
    """n=2 gets two choices, indexed 0 and 1, each within the token limit."""
    body = {
        "messages": messages(params["prompt"]),
        "max_tokens": 8,
        "n": 2,
        "temperature": 1.0,
        "seed": params["seed"],
    }
    ex = chat_target.chat(body)
    verify(
        ["chat.response.schema", "chat.n.indexed", "chat.finish-reason.enum", "chat.max-tokens.respected"], ex
    )


def test_chat_max_tokens_binds(chat_target: Target, verify: Any) -> None:
    """A limit shorter than any natural answer is respected."""
    ex = chat_target.chat(
        {"messages": messages("Count from one to fifty."), "max_tokens": 2, "temperature": 0}
    )
    verify(["chat.response.schema", "chat.max-tokens.respected", "chat.usage.sum"], ex)


def test_chat_stop_sequence(chat_target: Target, verify: Any, params: dict[str, Any]) -> None:
    """A stop sequence taken from the model's own answer cuts the answer before it."""
    body = {
        "messages": messages(params["prompt"]),
        "max_tokens": params["max_tokens"],
        "temperature": 0,
        "seed": params["seed"],
    }
    first = chat_target.chat(body)
    verify(["chat.response.schema"], first)
    stop = stop_from(_content(first.json))
    if stop is None:
        pytest.skip("the model's answer has no word to use as a stop sequence")
    verify(
        ["chat.response.schema", "chat.stop.honoured", "chat.finish-reason.enum"],
        chat_target.chat({**body, "stop": [stop]}),
    )


def test_chat_seed_determinism(chat_target: Target, verify: Any, params: dict[str, Any]) -> None:
    """The same sampled request with the same seed gives the same answer twice."""
    body = {
        "messages": messages(params["prompt"]),
        "max_tokens": 8,
        "temperature": 1.0,
        "seed": params["seed"],
    }
    verify(["chat.seed.determinism"], chat_target.chat(body), chat_target.chat(body))


def test_chat_logprobs(chat_target: Target, verify: Any, params: dict[str, Any]) -> None:
    """logprobs with top_logprobs=2: one entry per token, every logprob <= 0."""
    body = {"messages": messages(params["prompt"]), "max_tokens": 4, "logprobs": True, "top_logprobs": 2}
    verify(["chat.response.schema", "chat.logprobs.valid"], chat_target.chat(body))


def test_chat_json_mode(chat_target: Target, verify: Any) -> None:
    """response_format json_object: a finished answer is a JSON object."""
    body = {
        "messages": [
            {"role": "system", "content": "Reply with a JSON object only."},
            {"role": "user", "content": 'Give {"answer": <one word>} for: what colour is the sky?'},
        ],
        "max_tokens": 48,
        "temperature": 0,
        "response_format": {"type": "json_object"},
    }
    verify(["chat.response.schema", "chat.response-format.json"], chat_target.chat(body))


def _content(payload: Any) -> str:
    try:
        text = payload["choices"][0]["message"]["content"]
    except (TypeError, KeyError, IndexError):
        return ""
    return text if isinstance(text, str) else ""
