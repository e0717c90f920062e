"""compat_suite.clients: the SDKs' live calls as records, and the clients.* checks that judge them.

Against the reference server (scripted engine) every standard call parses in every SDK; a record
that failed where the raw exchange was accepted fails its check with the SDK's exception as
evidence; every SDK call is bounded by the target's timeout even against a target that drips.
"""

from __future__ import annotations

import json
import time

import pytest
from hostile_server import HostileServer  # tests/ is on sys.path (pytest's rootdir conftest)

from compat_suite import checks
from compat_suite.checks.clients import node_sdk_unavailable
from compat_suite.clients import (
    SDK_NODE,
    SDK_PYTHON,
    STANDARD_CALL_IDS,
    ClientCall,
    ClientRecord,
    python_sdk_condition,
    run_node,
    run_python,
    run_python_async,
    standard_calls,
)
from compat_suite.target import RequestBudgetExhausted, Target
from schemas import load_profile

CLIENT_CHECKS = {
    "python": ("clients.python-sdk.parse", run_python),
    "python-async": ("clients.python-async-sdk.parse", run_python_async),
    "node": ("clients.node-sdk.parse", run_node),
}
needs_node = pytest.mark.skipif(node_sdk_unavailable() is not None, reason=str(node_sdk_unavailable()))


def _target(base_url: str, api_key: str, timeout_s: float = 10.0, **kw) -> Target:
    return Target(
        base_url,
        api_key,
        load_profile("openai"),
        model="scripted-chat",
        embedding_model="scripted-embed",
        timeout_s=timeout_s,
        **kw,
    )


def _record(ok: bool, **kw) -> ClientRecord:
    call = ClientCall("chat", "chat", {"model": "scripted-chat", "messages": []})
    return ClientRecord(SDK_PYTHON, "test", call, ok, **kw)


@pytest.fixture(scope="module")
def chat_exchange(scripted_server):
    target = _target(scripted_server.base_url, scripted_server.api_key)
    try:
        yield target.chat({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
    finally:
        target.close()


def test_standard_calls_cover_every_endpoint(scripted_server) -> None:
    target = _target(scripted_server.base_url, scripted_server.api_key)
    calls = standard_calls(target)
    assert [c.id for c in calls] == list(STANDARD_CALL_IDS)
    strict = {c.id: c.strict for c in calls}
    # the SDK's own types are stricter than the API for exactly these two (see compat_suite.clients)
    assert [k for k, v in strict.items() if not v] == ["completions_stream", "embeddings_base64"]


@pytest.mark.parametrize("sdk", ["python", "python-async", pytest.param("node", marks=needs_node)])
def test_every_standard_call_parses(scripted_server, sdk: str) -> None:
    _, run = CLIENT_CHECKS[sdk]
    target = _target(scripted_server.base_url, scripted_server.api_key)
    records = run(target, standard_calls(target))
    # the SDK's requests count against --max-requests (a stored-response call sends several)
    assert target.sent == sum(call.requests for call in standard_calls(target)) > len(STANDARD_CALL_IDS)
    failed = {r.call.id: r.evidence() for r in records if not r.ok}
    assert not failed, failed
    by_id = {r.call.id: r for r in records}
    assert by_id["chat_stream"].result["chunks"] > 1 and by_id["chat_stream"].result["text"]
    assert by_id["chat_stream"].result["usage"]["total_tokens"] > 0
    assert set(by_id["embeddings_base64"].result["dims"]) == set(by_id["embeddings_float"].result["dims"])
    assert "scripted-chat" in by_id["models"].result["ids"]
    assert (
        by_id["responses_stream"].result["status"] == "completed" and by_id["responses_stream"].result["text"]
    )
    assert by_id["responses_retrieve"].result["id"] == by_id["responses_retrieve"].result["created_id"]
    assert len(by_id["responses_input_items"].result["items"]) == 1
    assert by_id["responses_delete"].result["deleted"] is True
    assert set(by_id["responses_parse"].result["parsed"]) == {"name", "age", "city"}
    text = json.dumps([r.evidence() for r in records])
    assert scripted_server.api_key not in text


@pytest.mark.parametrize("check_id", [c for c, _ in CLIENT_CHECKS.values()])
def test_failed_record_on_accepted_exchange_fails(chat_exchange, check_id: str) -> None:
    if "node" in check_id and node_sdk_unavailable():
        pytest.skip(node_sdk_unavailable())
    record = _record(False, error_class="APIResponseValidationError", error_message="choices: bad")
    outcome = checks.run(check_id, chat_exchange, record=record)
    assert not outcome.passed
    assert "APIResponseValidationError" in outcome.message
    assert outcome.evidence["client"]["error"]["class"] == "APIResponseValidationError"
    assert outcome.evidence["status"] == 200
    assert checks.run(check_id, chat_exchange, record=_record(True, result={})).passed


def test_error_answers_need_an_api_status_error(scripted_server) -> None:
    target = _target(scripted_server.base_url, scripted_server.api_key)
    refused = target.chat({"messages": [{"role": "user", "content": "hi"}]}, auth="wrong")
    assert refused.status == 401
    as_status = _record(False, error_class="AuthenticationError", error_status=401, error_message="no")
    as_crash = _record(False, error_class="APIConnectionError", error_message="Connection error.")
    assert checks.run("clients.python-sdk.parse", refused, record=as_status).passed
    outcome = checks.run("clients.python-sdk.parse", refused, record=as_crash)
    assert not outcome.passed and "APIConnectionError" in outcome.message


def test_bad_key_condition_keeps_keys_out(scripted_server) -> None:
    target = _target(scripted_server.base_url, scripted_server.api_key)
    body = {"model": "scripted-chat", "messages": [{"role": "user", "content": "hi"}]}
    record = python_sdk_condition(target, "chat", "bad-key", body)
    assert record is not None and record.error_class == "AuthenticationError"
    assert scripted_server.api_key not in json.dumps(record.evidence(target.secrets))
    assert python_sdk_condition(target, "models", "malformed-json", {}) is None  # not expressible


def test_budget_counts_sdk_requests(scripted_server) -> None:
    target = _target(scripted_server.base_url, scripted_server.api_key, max_requests=3)
    target.reserve(2)
    with pytest.raises(RequestBudgetExhausted):
        run_python(target, standard_calls(target))
    assert target.sent == 2


@pytest.mark.parametrize("sdk", ["python", "python-async", pytest.param("node", marks=needs_node)])
def test_sdk_calls_are_bounded_by_the_deadline(sdk: str) -> None:
    """A target that drips its status line a byte a second: each SDK gives up near the timeout."""
    _, run = CLIENT_CHECKS[sdk]
    with HostileServer() as hostile:
        target = _target(hostile.base_url("drip-head"), "sk-hostile", timeout_s=2.0)
        call = ClientCall("chat", "chat", {"model": "m", "messages": [{"role": "user", "content": "x"}]})
        started = time.monotonic()
        (record,) = run(target, [call])
        elapsed = time.monotonic() - started
    assert not record.ok
    limit = 2.0 + (6.0 if sdk == "node" else 2.0)  # node: its own start-up on top
    assert elapsed < limit, f"{sdk}: {elapsed:.1f} s ({record.error_class})"
    assert record.sdk == SDK_NODE if sdk == "node" else True


@pytest.mark.parametrize("check_id", ["clients.python-sdk.parse", "clients.python-async-sdk.parse"])
def test_base64_embeddings_replay_parses(scripted_server, check_id: str) -> None:
    """The SDK types `embedding` as floats; a base64 answer is still parsed (leniently), not failed."""
    target = _target(scripted_server.base_url, scripted_server.api_key)
    exchange = target.embeddings({"input": ["a", "b"], "encoding_format": "base64"})
    assert exchange.status == 200 and isinstance(exchange.json["data"][0]["embedding"], str)
    assert checks.run(check_id, exchange).passed
