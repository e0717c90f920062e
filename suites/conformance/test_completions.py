"""Conformance of unary legacy completions: shapes, usage, n, limits, stop, seed, echo."""

from __future__ import annotations

from typing import Any

import pytest

from compat_suite.checks import PYTHON_CLIENTS, response_shape
from compat_suite.strategies import stop_from
from compat_suite.target import Target

SHAPE = [*response_shape("completions"), *PYTHON_CLIENTS]
PROMPT = "The three primary colours are"

pytestmark = pytest.mark.endpoint("completions")


@pytest.fixture
def completions_target(target: Target) -> Target:
    target.require("completions")
    return target


def test_completions_basic(completions_target: Target, verify: Any, params: dict[str, Any]) -> None:
    """One plain request: every shape check, and the SDKs parse it."""
    ex = completions_target.completions(
        {"prompt": PROMPT, "max_tokens": params["max_tokens"], "temperature": 0}
    )
    verify(SHAPE, ex)


def test_completions_n_choices(completions_target: Target, verify: Any, params: dict[str, Any]) -> None:
    """n=2 gets two choices, indexed 0 and 1."""
    body = {"prompt": PROMPT, "max_tokens": 8, "n": 2, "temperature": 1.0, "seed": params["seed"]}
    verify(
        ["completions.response.schema", "completions.n.indexed", "completions.max-tokens.respected"],
        completions_target.completions(body),
    )


def test_completions_max_tokens_binds(completions_target: Target, verify: Any) -> None:
    """A limit shorter than any natural continuation is respected."""
    ex = completions_target.completions(
        {"prompt": "One, two, three, four,", "max_tokens": 2, "temperature": 0}
    )
    verify(["completions.response.schema", "completions.max-tokens.respected", "completions.usage.sum"], ex)


def test_completions_stop_sequence(completions_target: Target, verify: Any, params: dict[str, Any]) -> None:
    """A stop sequence taken from the model's own continuation cuts it before that point."""
    body = {"prompt": PROMPT, "max_tokens": params["max_tokens"], "temperature": 0, "seed": params["seed"]}
    first = completions_target.completions(body)
    verify(["completions.response.schema"], first)
    stop = stop_from(_text(first.json))
    if stop is None:
        pytest.skip("the model's continuation has no word to use as a stop sequence")
    second = completions_target.completions({**body, "stop": stop})
    verify(
        ["completions.response.schema", "completions.stop.honoured", "completions.finish-reason.enum"], second
    )


def test_completions_seed_determinism(
    completions_target: Target, verify: Any, params: dict[str, Any]
) -> None:
    """The same sampled request with the same seed gives the same text twice."""
    body = {"prompt": PROMPT, "max_tokens": 8, "temperature": 1.0, "seed": params["seed"]}
    verify(
        ["completions.seed.determinism"],
        completions_target.completions(body),
        completions_target.completions(body),
    )


def test_completions_echo(completions_target: Target, verify: Any) -> None:
    """echo=true: the text starts with the prompt."""
    body = {"prompt": PROMPT, "max_tokens": 4, "temperature": 0, "echo": True}
    verify(
        ["completions.response.schema", "completions.echo.prefix", "completions.stop.honoured"],
        completions_target.completions(body),
    )


def _text(payload: Any) -> str:
    try:
        text = payload["choices"][0]["text"]
    except (TypeError, KeyError, IndexError):
        return ""
    return text if isinstance(text, str) else ""
