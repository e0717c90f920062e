"""The key, credit, usage and health endpoints, where the profile declares them (Inferbase's surface).

Each scenario sends its requests through the target and hands the exchanges to the `governance.*`
checks (compat_suite/checks/_governance.py) through `verify`, so every outcome lands in results.json
and the report, judged by the profile like any other check.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from compat_suite.target import Target


def declared(target: Target, *endpoints: str) -> Target:
    for endpoint in endpoints:
        if not target.profile.declares(endpoint):
            pytest.skip(f"profile {target.profile.name!r} does not declare the {endpoint} endpoint")
    return target


def small_chat(target: Target, **kw: Any) -> Any:
    body = {"messages": [{"role": "user", "content": "Count to three."}], "max_tokens": 6}
    return target.chat(target.with_model("chat", body), **kw)


def test_model_health(target: Target, verify: Any) -> None:
    """GET /models/{model}/health answers ModelHealth, with no key where the profile says so."""
    declared(target, "health")
    if not target.model:
        pytest.skip("no model given (--model)")
    path = target.profile.endpoint_path("health").replace("{model}", target.model)
    verify(
        "governance.health.schema", target.get("health", path, auth=target.profile.requires_auth("health"))
    )


def test_key_lifecycle(target: Target, verify: Any, results: Any) -> None:
    """POST /keys shows the raw key once, GET /keys lists prefixes only, DELETE revokes it for good."""
    declared(target, "keys", "key")
    profile = target.profile
    created = target.request(
        "keys", "POST", profile.endpoint_path("keys"), json={"name": f"suite-{secrets.token_hex(4)}"}
    )
    body = created.json if isinstance(created.json, dict) else {}
    raw, key_id = body.get("key"), body.get("id")
    if isinstance(raw, str) and raw:
        results.secrets = (*results.secrets, raw)  # never in evidence or the report
    used = small_chat(target, auth=raw if isinstance(raw, str) and raw else "wrong")
    verify("governance.keys.create", created, used, key_prefix=profile.key_prefix)
    if not isinstance(key_id, str) or not key_id:
        return  # verify failed the test above; nothing to list or revoke
    listing = target.request("keys", "GET", profile.endpoint_path("keys"))
    verify("governance.keys.list", listing, key_id=key_id, raw_key=raw)
    revoked = target.request("key", "DELETE", profile.endpoint_path("key").replace("{key_id}", key_id))
    after = small_chat(target, auth=raw)
    verify("governance.keys.revoke", revoked, after, expected_status=profile.expected_status("revoked-key"))


def test_credits_usage_and_transactions(target: Target, verify: Any) -> None:
    """A served request is debited (GET /credits falls), listed as a transaction, and logged in GET /usage."""
    declared(target, "credits")
    profile = target.profile
    before = target.request("credits", "GET", profile.endpoint_path("credits"))
    served = small_chat(target)
    usage = served.json.get("usage") if isinstance(served.json, dict) else None
    if served.status != 200 or not isinstance(usage, dict):
        pytest.fail(
            f"the request to be accounted failed: {served.status} {served.body[:300]!r}", pytrace=False
        )
    after = target.request("credits", "GET", profile.endpoint_path("credits"))
    verify("governance.credits.debited", before, after)
    if profile.declares("credit_transactions"):
        path = profile.endpoint_path("credit_transactions")
        verify("governance.credits.transactions", target.request("credit_transactions", "GET", path))
    if profile.declares("usage"):
        log = target.request("usage", "GET", profile.endpoint_path("usage"))
        verify(
            "governance.usage.logged",
            log,
            request_id=served.headers.get("x-request-id"),
            total_tokens=usage.get("total_tokens"),
        )
