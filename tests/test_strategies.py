"""compat_suite.strategies: valid requests are valid against the full components and cheap; each
invalid request breaks exactly the rule its kind says, and names the parameter at fault."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemas
from compat_suite.strategies import (
    COUNT_PARAMS,
    INVALID_KINDS,
    REQUEST_COMPONENTS,
    InvalidRequest,
    RequestLimits,
    applicable_kinds,
    examples_within_budget,
    invalid_requests,
    narrowed_schema,
    valid_requests,
)

FAST = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LIMITS = RequestLimits()
ENDPOINTS = ("chat", "completions", "embeddings")
JSON_KINDS = ("wrong-type", "out-of-range", "missing-required", "unknown-role")


def strict_json(raw: bytes) -> Any:
    """RFC 8259 JSON: UTF-8, no NaN/Infinity."""

    def refuse(name: str) -> Any:
        raise ValueError(name)

    return json.loads(raw.decode("utf-8"), parse_constant=refuse)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_valid_requests_are_valid_and_cheap(endpoint: str) -> None:
    component = REQUEST_COMPONENTS[endpoint]

    @FAST
    @given(valid_requests(endpoint, "the-model"))
    def prop(body: dict[str, Any]) -> None:
        assert schemas.errors(component, body) == [], body
        assert body["model"] == "the-model"
        assert "stream" not in body
        if endpoint != "embeddings":
            limits = [body.get("max_tokens"), body.get("max_completion_tokens")]
            given_limits = [v for v in limits if v is not None]
            assert len(given_limits) == 1 and 1 <= given_limits[0] <= LIMITS.max_tokens, body
            assert body.get("n") in (None, *range(1, LIMITS.max_n + 1))
        if endpoint == "chat":
            # the drawn messages, plus a system turn that says "JSON" and a tool round trip where drawn
            assert 1 <= len(body["messages"]) <= LIMITS.max_messages + 3
            if body.get("top_logprobs") is not None:
                assert body["logprobs"] is True  # documented: top_logprobs requires logprobs
            roles = ("system", "developer", "user", "assistant", "tool")
            assert all(m["role"] in roles for m in body["messages"])
            if any(m["role"] == "tool" for m in body["messages"]):
                assert body["tools"] and body["messages"][-2]["tool_calls"][0]["id"] == "call_0"
            if "tool_choice" in body or "parallel_tool_calls" in body:
                assert body["tools"]  # documented: only with tools
            if (body.get("response_format") or {}).get("type") == "json_object":
                assert "JSON" in body["messages"][0]["content"]  # OpenAI asks for the word
        if endpoint == "completions":
            assert isinstance(body["prompt"], str) and 1 <= len(body["prompt"]) <= LIMITS.max_text

    prop()


@pytest.mark.parametrize("endpoint", ("chat", "completions"))
def test_streamed_requests_ask_for_a_stream(endpoint: str) -> None:
    seen_usage = set()

    @FAST
    @given(valid_requests(endpoint, "m", stream=True))
    def prop(body: dict[str, Any]) -> None:
        assert schemas.errors(REQUEST_COMPONENTS[endpoint], body) == [], body
        assert body["stream"] is True
        seen_usage.add(bool((body.get("stream_options") or {}).get("include_usage")))

    prop()
    assert seen_usage == {True, False}


def test_embeddings_do_not_stream() -> None:
    with pytest.raises(ValueError, match="does not stream"):
        valid_requests("embeddings", "m", stream=True)


def test_no_model_when_the_target_serves_one() -> None:
    schema = narrowed_schema("chat", None)
    assert "model" not in schema["properties"] and "model" not in schema["required"]

    @FAST
    @given(invalid_requests("chat", None, kinds=("missing-required",)))
    def prop(mistake: InvalidRequest) -> None:
        assert mistake.param == "messages"  # a missing model is not a mistake here

    prop()


@pytest.mark.parametrize(
    ("endpoint", "kind"), [(e, k) for e in ENDPOINTS for k in applicable_kinds(e) if k in JSON_KINDS]
)
def test_each_invalid_request_breaks_one_named_rule(endpoint: str, kind: str) -> None:
    component = REQUEST_COMPONENTS[endpoint]
    kinds_seen = set()

    @FAST
    @given(invalid_requests(endpoint, "m", kinds=(kind,)))
    def prop(mistake: InvalidRequest) -> None:
        assert mistake.kind == kind and mistake.content_type == "application/json"
        body = strict_json(mistake.body)
        assert body == mistake.value
        found = schemas.errors(component, body)
        assert found, f"{mistake!r} is valid"
        assert found[0].param == mistake.param, (mistake, found)
        kinds_seen.add(mistake.param)
        if kind == "out-of-range" and mistake.param in COUNT_PARAMS:
            value = body[mistake.param]
            assert isinstance(value, int) and value < 1, "a count is only broken below its minimum"

    prop()
    assert kinds_seen


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_malformed_json_is_never_a_json_object(endpoint: str) -> None:
    @FAST
    @given(invalid_requests(endpoint, "m", kinds=("malformed-json",)))
    def prop(mistake: InvalidRequest) -> None:
        try:
            parsed = strict_json(mistake.body)
        except (ValueError, UnicodeDecodeError):
            return
        assert not isinstance(parsed, dict), mistake

    prop()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_wrong_content_type_carries_a_valid_json_body(endpoint: str) -> None:
    @FAST
    @given(invalid_requests(endpoint, "m", kinds=("wrong-content-type",)))
    def prop(mistake: InvalidRequest) -> None:
        assert "json" not in mistake.content_type
        assert schemas.errors(REQUEST_COMPONENTS[endpoint], strict_json(mistake.body)) == []

    prop()


def test_all_kinds_are_drawn_by_default() -> None:
    kinds = set()

    @settings(FAST, max_examples=120)
    @given(invalid_requests("chat", "m"))
    def prop(mistake: InvalidRequest) -> None:
        kinds.add(mistake.kind)

    prop()
    assert kinds == set(INVALID_KINDS)


def test_unknown_roles_only_exist_for_chat() -> None:
    assert "unknown-role" in applicable_kinds("chat")
    assert "unknown-role" not in applicable_kinds("embeddings")
    with pytest.raises(ValueError, match="do not apply"):
        invalid_requests("embeddings", "m", kinds=("unknown-role",))


@pytest.mark.parametrize(
    ("sent", "cap", "wanted", "per", "expected"),
    [
        (0, None, 12, 1, 12),
        (0, 100, 12, 1, 12),
        (95, 100, 12, 1, 5),
        (95, 100, 12, 2, 2),
        (100, 100, 12, 1, 0),
        (120, 100, 12, 1, 0),
    ],
)
def test_examples_fit_the_request_budget(
    sent: int, cap: int | None, wanted: int, per: int, expected: int
) -> None:
    assert examples_within_budget(sent, cap, wanted, per) == expected


@given(st.data())
@settings(FAST, max_examples=10)
def test_floats_in_valid_requests_are_finite(data: st.DataObject) -> None:
    body = data.draw(valid_requests("chat", "m"))
    numbers = [v for v in body.values() if isinstance(v, float)]
    assert all(math.isfinite(v) for v in numbers)


def test_the_chat_space_holds_tools_round_trips_and_structured_output() -> None:
    seen: set[str] = set()

    @FAST
    @given(valid_requests("chat", "m"))
    def prop(body: dict[str, Any]) -> None:
        seen.update(k for k in ("tools", "tool_choice", "parallel_tool_calls") if k in body)
        seen.update(m["role"] for m in body["messages"] if m["role"] == "tool")
        seen.add(str((body.get("response_format") or {}).get("type")))

    prop()
    assert {"tools", "tool_choice", "parallel_tool_calls", "tool", "json_object", "json_schema"} <= seen, seen
