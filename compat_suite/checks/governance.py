"""Checks of the gateway features a provider documents: model health, API keys, credits, usage, and
the headers that tell a refused client when to retry (rate limit, cold start).

Endpoint names are the profiles' (health, keys, key, credits, credit_transactions, usage). Shapes
beyond what the docs fix are read leniently: a list is `data` (OpenAI's list shape) or a bare array;
a balance is the first number among `balance_micros`, `balance`, `credits`, `remaining`.
"""

from __future__ import annotations

from typing import Any

from ..exchange import Exchange
from . import _common as c
from ._registry import MUST, SHOULD, Finding, check

BALANCE_FIELDS = ("balance_micros", "balance", "credits", "remaining")
RATE_LIMIT_HEADERS = (
    "retry-after",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
)
USAGE_WORDS = ("token", "cost", "latency")  # what a usage row must tell, by field name


def items(payload: Any) -> list[Any]:
    """The entries of a list answer: `data` (OpenAI's list shape) or a bare array."""
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        return payload["data"]
    return payload if isinstance(payload, list) else []


def balance(payload: Any) -> float | None:
    """The balance a credits answer states, or None when it states none."""
    if not isinstance(payload, dict):
        return None
    for name in BALANCE_FIELDS:
        value = payload.get(name)
        if c.is_number(value):
            return float(value)
    return None


def _ok(exchange: Exchange, what: str, statuses: tuple[int, ...] = (200,)) -> None:
    if exchange.status not in statuses:
        why = f" ({exchange.transport_error})" if exchange.transport_error else ""
        wanted = " or ".join(map(str, statuses))
        raise Finding(f"{what} answered {exchange.status}{why}, expected {wanted}", c.evidence(exchange))


# -- model health ---------------------------------------------------------------------------------------
@check("governance.health.schema", severity=MUST, endpoints=("health",))
def health_schema(exchange: Exchange) -> None:
    """Model health answers 200 with ModelHealth: the model and ready, loading or unavailable."""
    _ok(exchange, "model health")
    c.schema_check(exchange, "ModelHealth", c.body(exchange))


@check("governance.health.loading", severity=MUST, endpoints=("health",))
def health_loading(exchange: Exchange) -> None:
    """While the model cold starts, its health says loading."""
    status = c.body(exchange).get("status")
    if status != "loading":
        raise Finding(f"health says {c.short(status)} while the model loads", c.evidence(exchange))


@check("governance.cold-start.retry-after", severity=SHOULD, endpoints=("chat", "completions", "embeddings"))
def cold_start_retry_after(exchange: Exchange) -> None:
    """A request refused while the model cold starts says when to retry (Retry-After)."""
    value = exchange.headers.get("retry-after")
    if value is None or not value.strip():
        raise Finding(f"a cold-start refusal ({exchange.status}) without Retry-After", c.evidence(exchange))


# -- API keys ---------------------------------------------------------------------------------------------
@check("governance.keys.create", severity=MUST, endpoints=("keys",))
def keys_create(created: Exchange, used: Exchange, *, key_prefix: str | None = None) -> None:
    """Creating a key returns its id and the raw key once, in the documented format, and the key works."""
    _ok(created, "creating a key", (200, 201))
    payload = c.body(created)
    raw, key_id = payload.get("key"), payload.get("id")
    if not isinstance(raw, str) or not raw or not isinstance(key_id, str) or not key_id:
        fields = sorted(payload)
        raise Finding(
            f"the new key's answer lacks the raw key or its id (fields: {fields})",
            c.evidence(created, fields=fields),
        )
    if key_prefix and not raw.startswith(key_prefix):
        raise Finding(f"the new key does not start with {key_prefix!r}", c.evidence(created))
    if used.status != 200:
        raise Finding(f"a request with the new key got {used.status}", c.evidence(used))


@check("governance.keys.list", severity=MUST, endpoints=("keys",))
def keys_list(exchange: Exchange, *, key_id: str, raw_key: str | None = None) -> None:
    """The key list names each key by id (prefix only), never by its raw key."""
    _ok(exchange, "listing keys")
    if raw_key and raw_key.encode() in exchange.body:
        raise Finding("the key list shows a raw key", {"status": exchange.status})  # no body: it holds a key
    ids = [k.get("id") for k in items(exchange.json) if isinstance(k, dict)]
    if key_id not in ids:
        raise Finding(
            f"the new key {key_id!r} is not among the {len(ids)} listed", c.evidence(exchange, ids=ids[:20])
        )


@check("governance.keys.revoke", severity=MUST, endpoints=("key",))
def keys_revoke(revoked: Exchange, after: Exchange, *, expected_status: int = 401) -> None:
    """Revoking a key succeeds, and the key is refused from then on with the documented status."""
    _ok(revoked, "revoking a key", (200, 204))
    if after.status != expected_status:
        raise Finding(
            f"a revoked key got {after.status}, expected {expected_status}",
            c.evidence(after, expected=expected_status),
        )


# -- credits and usage ----------------------------------------------------------------------------------
@check("governance.credits.debited", severity=MUST, endpoints=("credits",))
def credits_debited(before: Exchange, after: Exchange) -> None:
    """The credit balance falls after a served request."""
    _ok(before, "the balance")
    _ok(after, "the balance")
    balances = [balance(before.json), balance(after.json)]
    if None in balances:
        raise Finding(f"no balance among {', '.join(BALANCE_FIELDS)}", c.evidence(after, balances=balances))
    if not balances[1] < balances[0]:
        raise Finding(
            f"the balance did not fall after a served request: {balances}",
            c.evidence(after, balances=balances),
        )


@check("governance.credits.transactions", severity=MUST, endpoints=("credit_transactions",))
def credits_transactions(exchange: Exchange) -> None:
    """The credit transactions list the deductions of served requests (a negative amount)."""
    _ok(exchange, "the credit transactions")
    rows = [r for r in items(exchange.json) if isinstance(r, dict)]
    debits = [r for r in rows if any(c.is_number(v) and v < 0 for v in r.values())]
    if not debits:
        raise Finding(
            f"no deduction among {len(rows)} credit transaction(s)", c.evidence(exchange, rows=rows[:3])
        )


@check("governance.usage.logged", severity=MUST, endpoints=("usage",))
def usage_logged(
    exchange: Exchange, *, request_id: str | None = None, total_tokens: int | None = None
) -> None:
    """A served request is in the usage log with its token counts, cost and latency."""
    _ok(exchange, "the usage log")
    rows = [r for r in items(exchange.json) if isinstance(r, dict)]
    mine = [r for r in rows if (request_id and r.get("request_id") == request_id)]
    mine = mine or [r for r in rows if total_tokens is not None and r.get("total_tokens") == total_tokens]
    if not mine:
        raise Finding(
            f"the served request (id {request_id!r}) is not among {len(rows)} usage row(s)",
            c.evidence(exchange, rows=rows[:3]),
        )
    missing = [w for w in USAGE_WORDS if not any(w in name for name in mine[0])]
    if missing:
        raise Finding(
            f"the usage row has no {', '.join(missing)}", c.evidence(exchange, row=mine[0], missing=missing)
        )


# -- rate limits ------------------------------------------------------------------------------------------
@check("governance.rate-limit.headers", severity=SHOULD, endpoints=("chat", "completions", "embeddings"))
def rate_limit_headers(exchange: Exchange) -> None:
    """A request over the key's rate limit (429) carries Retry-After and the x-ratelimit-* headers."""
    missing = [h for h in RATE_LIMIT_HEADERS if h not in exchange.headers]
    if missing:
        raise Finding(
            f"a {exchange.status} without {', '.join(missing)}", c.evidence(exchange, missing=missing)
        )
