"""The error matrix's gateway rows: 402, 403, 409, 429 and 502/503, each at the profile's status.

A row needs its state: a key with no credit, a revoked key, a key whose IP allowlist excludes this
machine, a deactivated account's key, a key limited to 2 per minute, a duplicate key name, a model
that is loading. Against the embedded persona the admin API makes them; against a real provider
they come from options (`--exhausted-key`, ...) and a row is skipped, saying which, without one.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from compat_suite import checks
from compat_suite.exchange import Exchange
from compat_suite.results import Results
from compat_suite.target import Target

pytestmark = pytest.mark.endpoint("chat")
KEY_STATES = {
    "no-credit": "exhausted-key",
    "revoked-key": "revoked-key",
    "ip-blocked": "ip-blocked-key",
    "account-disabled": "disabled-key",
}
RATE_PROBES = 6  # requests sent with the rate-limited key before giving up on a 429


def chat_body(target: Target) -> dict[str, Any]:
    return target.with_model("chat", {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4})


def judge(
    target: Target, results: Results, request: pytest.FixtureRequest, condition: str, exchange: Exchange
) -> None:
    """One row: the status the profile expects for `condition`, and OpenAI's error envelope."""
    expected = target.profile.expected_status(condition, "chat")
    outcome = checks.run("errors.envelope", exchange, endpoint="chat")
    finding = results.record(
        outcome, target.profile, request.node.nodeid, error_response=True, request=exchange.request.json
    )
    status_ok = exchange.status == expected
    results.error_matrix.append(
        {
            "endpoint": "chat",
            "condition": condition,
            "expected_status": expected,
            "status": exchange.status,
            "envelope": outcome.passed,
            "sdk_exception": None,
            "verdict": "pass" if status_ok and finding.verdict not in ("fail", "drift") else "fail",
            "cite": target.profile.status_rule(condition, "chat").cite,
        }
    )
    problems = [] if status_ok else [f"{condition}: status {exchange.status}, expected {expected}"]
    if finding.verdict in ("fail", "drift"):
        problems.append(f"errors.envelope: {finding.message}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def skip_row(results: Results, target: Target, condition: str, reason: str) -> None:
    row = {"endpoint": "chat", "condition": condition, "expected_status": target.profile.expected_status(condition, "chat"),
           "status": None, "envelope": None, "sdk_exception": None, "verdict": "skip",
           "cite": target.profile.status_rule(condition, "chat").cite}  # fmt: skip
    results.error_matrix.append(row)
    pytest.skip(reason)


@pytest.fixture
def chat_target(target: Target) -> Target:
    target.require("chat")
    return target


@pytest.mark.parametrize("condition", sorted(KEY_STATES))
def test_refused_key(
    chat_target: Target,
    state_keys: Any,
    results: Results,
    request: pytest.FixtureRequest,
    condition: str,
) -> None:
    """A key in a refused state (no credit, revoked, IP not allowed, account deactivated) gets the profile's status."""
    if chat_target.profile.expected_status(condition, "chat") is None:
        skip_row(
            results, chat_target, condition, f"{condition} does not apply to {chat_target.profile.name!r}"
        )
    key = state_keys.get(KEY_STATES[condition])
    judge(chat_target, results, request, condition, chat_target.chat(chat_body(chat_target), auth=key))


def test_rate_limited(
    chat_target: Target, state_keys: Any, results: Results, request: pytest.FixtureRequest, verify: Any
) -> None:
    """A key over its request limit gets 429 with Retry-After and the x-ratelimit-* headers."""
    key = state_keys.get("rate-limited-key")
    exchange = chat_target.chat(chat_body(chat_target), auth=key)
    for _ in range(RATE_PROBES - 1):
        if exchange.status != 200:
            break
        exchange = chat_target.chat(chat_body(chat_target), auth=key)
    judge(chat_target, results, request, "rate-limited", exchange)
    verify("governance.rate-limit.headers", exchange)


def test_conflict(chat_target: Target, results: Results, request: pytest.FixtureRequest) -> None:
    """Creating a key under a name that exists is a conflict (409)."""
    profile = chat_target.profile
    if not profile.declares("keys"):
        skip_row(
            results, chat_target, "conflict", f"profile {profile.name!r} declares no key-creation endpoint"
        )
    path, name = profile.endpoint_path("keys"), f"compat-suite-conflict-{secrets.token_hex(4)}"
    first = chat_target.request("keys", "POST", path, json={"name": name})
    if first.status not in (200, 201):
        pytest.fail(
            f"creating a key named {name!r} failed: {first.status} {first.body[:300]!r}", pytrace=False
        )
    created = first.json if isinstance(first.json, dict) else {}
    try:
        judge(
            chat_target,
            results,
            request,
            "conflict",
            chat_target.request("keys", "POST", path, json={"name": name}),
        )
    finally:
        if created.get("id") and profile.declares("key"):
            chat_target.request(
                "key", "DELETE", profile.endpoint_path("key").replace("{key_id}", created["id"])
            )


def test_cold_start(
    chat_target: Target, admin: Any, results: Results, request: pytest.FixtureRequest, verify: Any
) -> None:
    """A model that is loading is refused with the profile's status (502/503) and Retry-After; health says loading."""
    option = request.config.getoption("loading_model")
    body = chat_body(chat_target)
    if option:
        judge(chat_target, results, request, "cold-start", chat_target.chat({**body, "model": option}))
        return
    if admin is None or not chat_target.model:
        skip_row(results, chat_target, "cold-start", "no --loading-model given, and no admin API to make one")
    model = chat_target.model
    admin.call("PUT", f"/admin/models/{model}/status", {"status": "loading"})
    try:
        exchange = chat_target.chat(body)
        health = None
        if chat_target.profile.declares("health"):
            path = chat_target.profile.endpoint_path("health").replace("{model}", model)
            health = chat_target.get("health", path, auth=chat_target.profile.requires_auth("health"))
    finally:
        admin.call("PUT", f"/admin/models/{model}/status", {"status": "ready"})
    judge(chat_target, results, request, "cold-start", exchange)
    verify("governance.cold-start.retry-after", exchange)
    if health is not None:
        verify("governance.health.loading", health)
