"""Governance: the key, credit, usage and health endpoints where the profile declares them
(Inferbase's surface), and the error matrix's gateway rows (402, 403, 409, 429, 502/503), each at the
profile's status.

A gateway row needs its state: a key with no credit, a revoked key, a key whose IP allowlist excludes
this machine, a deactivated account's key, a key limited to 2 per minute, a duplicate key name, a model
that is loading. Against the embedded persona the admin API makes them; against a real provider they
come from options (`--exhausted-key`, ...), and a row without one is not applicable, saying which.
"""

from __future__ import annotations

import secrets
from typing import Any

from ..exchange import Exchange
from ..target import NotApplicable, Target
from ._context import Context
from ._registry import MatrixRow, Proof, Proofs, proof, scenario

# The gateway conditions a key in a state triggers, and the option (or admin-made state) it needs.
KEY_STATES = {
    "account-disabled": "disabled-key",
    "ip-blocked": "ip-blocked-key",
    "no-credit": "exhausted-key",
    "revoked-key": "revoked-key",
}
RATE_PROBES = 6  # requests sent with the rate-limited key before giving up on a 429


def declared(t: Target, *endpoints: str) -> None:
    for endpoint in endpoints:
        if not t.profile.declares(endpoint):
            raise NotApplicable(f"profile {t.profile.name!r} does not declare the {endpoint} endpoint")


def small_chat(t: Target, **kw: Any) -> Exchange:
    body = {"messages": [{"role": "user", "content": "Count to three."}], "max_tokens": 6}
    return t.chat(t.with_model("chat", body), **kw)


def chat_body(t: Target) -> dict[str, Any]:
    return t.with_model("chat", {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4})


def row(t: Target, condition: str, exchange: Exchange | None = None) -> MatrixRow:
    """The matrix row of a gateway condition on chat (its status is judged by the row, not a check)."""
    expected = t.profile.expected_status(condition, "chat")
    cite = t.profile.status_rule(condition, "chat").cite
    if exchange is None:
        return MatrixRow("chat", condition, expected, cite, status_checked=False, skipped=True)
    return MatrixRow("chat", condition, expected, cite, exchange.status, status_checked=False)


def refusal(t: Target, condition: str, exchange: Exchange) -> Proof:
    """One gateway row: the profile's status for `condition`, and OpenAI's error envelope."""
    return proof(
        "errors.envelope", exchange, endpoint="chat", error_response=True, row=row(t, condition, exchange)
    )


def not_applicable(t: Target, condition: str, reason: str) -> Proofs:
    """A skipped row, then NotApplicable with the reason."""
    yield proof((), row=row(t, condition))
    raise NotApplicable(reason)


@scenario("governance.model-health", endpoint="health", proves=("governance.health.schema",))
def model_health(ctx: Context) -> Proofs:
    """GET /models/{model}/health answers ModelHealth, with no key where the profile says so."""
    t = ctx.target
    if not t.model:
        raise NotApplicable("no model given (--model)")
    path = t.profile.endpoint_path("health").replace("{model}", t.model)
    yield proof("governance.health.schema", t.get("health", path, auth=t.profile.requires_auth("health")))


@scenario(
    "governance.key-lifecycle",
    proves=("governance.keys.create", "governance.keys.list", "governance.keys.revoke"),
)
def key_lifecycle(ctx: Context) -> Proofs:
    """POST /keys shows the raw key once, GET /keys lists prefixes only, DELETE revokes it for good."""
    t = ctx.target
    declared(t, "keys", "key")
    t.require("chat")  # the new key is tried on a chat: without a model that would blame the key
    created = t.request(
        "keys", "POST", t.profile.endpoint_path("keys"), json={"name": f"suite-{secrets.token_hex(4)}"}
    )
    body = created.json if isinstance(created.json, dict) else {}
    raw, key_id = body.get("key"), body.get("id")
    raw = ctx.secret(raw) if isinstance(raw, str) and raw else None
    used = small_chat(t, auth=raw or "wrong")
    # `used` is judged by the check itself: a refusal there means the new key does not work.
    yield proof(
        "governance.keys.create", created, used, key_prefix=t.profile.key_prefix, needs=("json", "none")
    )
    if not isinstance(key_id, str) or not key_id:
        return  # the check above failed: nothing to list or revoke
    listing = t.request("keys", "GET", t.profile.endpoint_path("keys"))
    yield proof("governance.keys.list", listing, key_id=key_id, raw_key=raw)
    revoked = t.request("key", "DELETE", t.profile.endpoint_path("key").replace("{key_id}", key_id))
    after = small_chat(t, auth=raw or "wrong")
    yield proof(
        "governance.keys.revoke",
        revoked,
        after,
        expected_status=t.profile.expected_status("revoked-key"),
        needs="none",  # a 204 with no body, then a refusal: the check reads both itself
    )


@scenario(
    "governance.credits-and-usage",
    proves=("governance.credits.debited", "governance.credits.transactions", "governance.usage.logged"),
)
def credits_and_usage(ctx: Context) -> Proofs:
    """A served request is debited (GET /credits falls), listed as a transaction, and logged in GET /usage."""
    t = ctx.target
    declared(t, "credits")
    t.require("chat")  # a served chat is what gets debited
    before = t.request("credits", "GET", t.profile.endpoint_path("credits"))
    served = small_chat(t)
    usage = served.json.get("usage") if isinstance(served.json, dict) else None
    if served.status != 200 or not isinstance(usage, dict):
        raise AssertionError(f"the request to be accounted failed: {served.status} {served.body[:300]!r}")
    after = t.request("credits", "GET", t.profile.endpoint_path("credits"))
    yield proof("governance.credits.debited", before, after)
    if t.profile.declares("credit_transactions"):
        path = t.profile.endpoint_path("credit_transactions")
        yield proof("governance.credits.transactions", t.request("credit_transactions", "GET", path))
    if t.profile.declares("usage"):
        log = t.request("usage", "GET", t.profile.endpoint_path("usage"))
        request_id, total = served.headers.get("x-request-id"), usage.get("total_tokens")
        yield proof("governance.usage.logged", log, request_id=request_id, total_tokens=total)


@scenario("governance.refused-key", endpoint="chat", cases=tuple(KEY_STATES), proves=("errors.envelope",))
def refused_key(ctx: Context) -> Proofs:
    """A key in a refused state (no credit, revoked, IP not allowed, account deactivated) gets the profile's status."""
    t, condition = ctx.target, ctx.case or ""
    if t.profile.expected_status(condition, "chat") is None:
        yield from not_applicable(t, condition, f"{condition} does not apply to {t.profile.name!r}")
    key = ctx.state_key(KEY_STATES[condition])
    yield refusal(t, condition, t.chat(chat_body(t), auth=key, retry=False))  # the refusal is under test


@scenario(
    "governance.rate-limited", endpoint="chat", proves=("errors.envelope", "governance.rate-limit.headers")
)
def rate_limited(ctx: Context) -> Proofs:
    """A key over its request limit gets 429 with Retry-After and the x-ratelimit-* headers."""
    t = ctx.target
    key = ctx.state_key("rate-limited-key")
    exchange = t.chat(chat_body(t), auth=key, retry=False)  # the 429 is the answer under test
    for _ in range(RATE_PROBES - 1):
        if exchange.status != 200:
            break
        exchange = t.chat(chat_body(t), auth=key, retry=False)
    yield refusal(t, "rate-limited", exchange)
    yield proof("governance.rate-limit.headers", exchange, needs="refusal")


@scenario("governance.conflict", endpoint="chat", proves=("errors.envelope",))
def conflict(ctx: Context) -> Proofs:
    """Creating a key under a name that exists is a conflict (409)."""
    t = ctx.target
    if not t.profile.declares("keys"):
        yield from not_applicable(
            t, "conflict", f"profile {t.profile.name!r} declares no key-creation endpoint"
        )
    path, name = t.profile.endpoint_path("keys"), f"compat-suite-conflict-{secrets.token_hex(4)}"
    first = t.request("keys", "POST", path, json={"name": name})
    if first.status not in (200, 201):
        raise AssertionError(f"creating a key named {name!r} failed: {first.status} {first.body[:300]!r}")
    created = first.json if isinstance(first.json, dict) else {}
    try:
        yield refusal(t, "conflict", t.request("keys", "POST", path, json={"name": name}))
    finally:
        if created.get("id") and t.profile.declares("key"):
            t.request("key", "DELETE", t.profile.endpoint_path("key").replace("{key_id}", created["id"]))


@scenario(
    "governance.cold-start",
    endpoint="chat",
    proves=("errors.envelope", "governance.cold-start.retry-after", "governance.health.loading"),
)
def cold_start(ctx: Context) -> Proofs:
    """A model that is loading is refused with the profile's status (502/503) and Retry-After; health says loading."""
    t = ctx.target
    option = ctx.options.get("loading_model")
    if option:
        yield refusal(t, "cold-start", t.chat({**chat_body(t), "model": option}))
        return
    if ctx.admin is None or not t.model:
        yield from not_applicable(t, "cold-start", "no --loading-model given, and no admin API to make one")
    model = t.model
    ctx.admin.call("PUT", f"/admin/models/{model}/status", {"status": "loading"})
    try:
        exchange = t.chat(chat_body(t))
        health = None
        if t.profile.declares("health"):
            path = t.profile.endpoint_path("health").replace("{model}", model)
            health = t.get("health", path, auth=t.profile.requires_auth("health"))
    finally:
        ctx.admin.call("PUT", f"/admin/models/{model}/status", {"status": "ready"})
    yield refusal(t, "cold-start", exchange)
    yield proof("governance.cold-start.retry-after", exchange, needs="refusal")
    if health is not None:
        yield proof("governance.health.loading", health, needs="none")  # a 200 or a 503, both documented
