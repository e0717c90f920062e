"""The key, credit, usage and health endpoints, where the profile declares them (Inferbase's surface).

Each scenario asserts through `expect`, so every outcome lands in results.json and the report.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from compat_suite import schemas
from compat_suite.target import Target

HEALTH_STATUSES = ("ready", "loading", "unavailable")


def declared(target: Target, *endpoints: str) -> Target:
    for endpoint in endpoints:
        if not target.profile.declares(endpoint):
            pytest.skip(f"profile {target.profile.name!r} does not declare the {endpoint} endpoint")
    return target


def text(body: bytes, limit: int = 800) -> str:
    return body[:limit].decode("utf-8", "replace")


def items(payload: Any) -> list[Any]:
    """The entries of a list answer: `data` (OpenAI's list shape) or a bare array."""
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        return payload["data"]
    return payload if isinstance(payload, list) else []


def test_model_health(target: Target, expect: Any) -> None:
    """GET /models/{model}/health answers ModelHealth, ready|loading|unavailable, with no key where documented."""
    declared(target, "health")
    if not target.model:
        pytest.skip("no model given (--model)")
    path = target.profile.endpoint_path("health").replace("{model}", target.model)
    ex = target.get("health", path, auth=target.profile.requires_auth("health"))
    evidence = {"status": ex.status, "body": text(ex.body)}
    expect(
        "governance.health.ok", ex.status == 200, f"health answered {ex.status}", evidence, endpoint="health"
    )
    problems = schemas.errors("ModelHealth", ex.json) if isinstance(ex.json, dict) else ["not a JSON object"]
    expect(
        "governance.health.schema",
        not problems,
        f"not ModelHealth: {problems[:3]}",
        evidence,
        endpoint="health",
    )
    status = ex.json.get("status")
    expect(
        "governance.health.status",
        status in HEALTH_STATUSES,
        f"status {status!r}",
        evidence,
        endpoint="health",
    )


def test_key_lifecycle(target: Target, expect: Any, results: Any) -> None:
    """POST /keys shows the raw key once, GET /keys lists prefixes only, DELETE revokes it for good."""
    declared(target, "keys", "key")
    profile = target.profile
    created = target.request(
        "keys", "POST", profile.endpoint_path("keys"), json={"name": f"suite-{secrets.token_hex(4)}"}
    )
    body = created.json if isinstance(created.json, dict) else {}
    raw, key_id = body.get("key"), body.get("id")
    if isinstance(raw, str):
        results.secrets = (*results.secrets, raw)
    evidence = {"status": created.status, "fields": sorted(body)}
    expect("governance.keys.create", created.status in (200, 201) and isinstance(raw, str) and bool(key_id),
           "creating a key did not return the raw key and its id", evidence, endpoint="keys")  # fmt: skip
    prefix = profile.key_prefix
    expect("governance.keys.prefix", not prefix or raw.startswith(prefix),
           f"the new key does not start with {prefix!r}", evidence, endpoint="keys")  # fmt: skip

    listing = target.request("keys", "GET", profile.endpoint_path("keys"))
    listed = items(listing.json)
    expect("governance.keys.list", listing.status == 200 and any(k.get("id") == key_id for k in listed if isinstance(k, dict)),
           "the new key is not in the list", {"status": listing.status, "count": len(listed)}, endpoint="keys")  # fmt: skip
    expect("governance.keys.list-redacted", raw.encode() not in listing.body,
           "the key list shows a raw key", {"status": listing.status}, endpoint="keys")  # fmt: skip

    works = target.chat(
        target.with_model("chat", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}),
        auth=raw,
    )
    expect("governance.keys.usable", works.status == 200, f"the new key got {works.status}",
           {"status": works.status, "body": text(works.body)}, endpoint="chat")  # fmt: skip

    revoked = target.request("key", "DELETE", profile.endpoint_path("key").replace("{key_id}", key_id))
    expect("governance.keys.revoke", revoked.status in (200, 204), f"revoking answered {revoked.status}",
           {"status": revoked.status, "body": text(revoked.body)}, endpoint="key")  # fmt: skip
    after = target.chat(
        target.with_model("chat", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}),
        auth=raw,
    )
    wanted = profile.expected_status("revoked-key")
    expect("governance.keys.revoked-refused", after.status == wanted,
           f"a revoked key got {after.status}, expected {wanted}", {"status": after.status, "body": text(after.body)},
           endpoint="chat")  # fmt: skip


def test_credits_usage_and_transactions(target: Target, expect: Any) -> None:
    """A served request is debited (GET /credits falls), listed as a transaction, and logged in GET /usage."""
    declared(target, "credits")
    profile = target.profile
    before = target.request("credits", "GET", profile.endpoint_path("credits"))
    expect("governance.credits.balance", before.status == 200 and isinstance(before.json, dict),
           f"GET credits answered {before.status}", {"status": before.status, "body": text(before.body)},
           endpoint="credits")  # fmt: skip
    served = target.chat(
        target.with_model(
            "chat", {"messages": [{"role": "user", "content": "Count to three."}], "max_tokens": 6}
        )
    )
    usage = served.json.get("usage") if isinstance(served.json, dict) else None
    if served.status != 200 or not isinstance(usage, dict):
        pytest.fail(
            f"the request to be accounted failed: {served.status} {text(served.body, 300)}", pytrace=False
        )
    after = target.request("credits", "GET", profile.endpoint_path("credits"))
    balances = [_balance(x.json) for x in (before, after)]
    expect("governance.credits.debited", None not in balances and balances[1] < balances[0],
           f"the balance did not fall after a served request: {balances}", {"balances": balances}, endpoint="credits")  # fmt: skip

    if profile.declares("credit_transactions"):
        listing = target.request("credit_transactions", "GET", profile.endpoint_path("credit_transactions"))
        rows = [r for r in items(listing.json) if isinstance(r, dict)]
        debits = [r for r in rows if any(isinstance(v, int | float) and v < 0 for v in r.values())]
        expect("governance.credits.transactions", listing.status == 200 and bool(debits),
               "no deduction among the credit transactions", {"status": listing.status, "rows": rows[:3]},
               endpoint="credit_transactions")  # fmt: skip
    if profile.declares("usage"):
        log = target.request("usage", "GET", profile.endpoint_path("usage"))
        rows = [r for r in items(log.json) if isinstance(r, dict)]
        total = usage.get("total_tokens")
        mine = [
            r
            for r in rows
            if r.get("request_id") == served.headers.get("x-request-id") or r.get("total_tokens") == total
        ]
        fields = {k for r in mine[:1] for k in r}
        has_all = all(any(word in f for f in fields) for word in ("token", "cost", "latency"))
        expect("governance.usage.logged", log.status == 200 and bool(mine) and has_all,
               "the served request is not in the usage log with tokens, cost and latency",
               {"status": log.status, "rows": rows[:3]}, endpoint="usage")  # fmt: skip


def _balance(payload: Any) -> float | None:
    if not isinstance(payload, dict):
        return None
    for name in ("balance_micros", "balance", "credits", "remaining"):
        value = payload.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None
