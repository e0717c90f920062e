"""Faults that fail the governance checks: the gateway's management answers, health and refusals."""

from __future__ import annotations

from typing import Any

from ._hooks import code, error_when, items, on, put
from ._registry import Fault, Json, fault


def _health_no_model(payload: Json, request: Json) -> Json:
    return {k: v for k, v in payload.items() if k != "model"}


def _created_without_raw_key(payload: Json, request: Json) -> Json:
    return payload if "data" in payload else {k: v for k, v in payload.items() if k != "key"}


def _listed_none(payload: Json, request: Json) -> Json:
    return {**payload, "data": []} if isinstance(payload.get("data"), list) else payload


def _balance_frozen(payload: Json, request: Json) -> Json:
    frozen = {"balance_micros": 10**12, "balance": 10**6}
    return {**payload, **{k: v for k, v in frozen.items() if k in payload}}


def _no_debits(payload: Json, request: Json) -> Json:
    rows = [
        r
        for r in items(payload)
        if not any(isinstance(v, int | float) and not isinstance(v, bool) and v < 0 for v in r.values())
    ]
    return {**payload, "data": rows}


def _usage_without_latency(payload: Json, request: Json) -> Json:
    rows = [{k: v for k, v in r.items() if "latency" not in k} for r in items(payload)]
    return {**payload, "data": rows}


def _headers_when(error_code: str, *names: str) -> Any:
    """An error-headers hook: on the error with `error_code`, drop the headers `names`."""

    def hook(status: int, envelope: Json, headers: dict[str, str]) -> None:
        error = envelope.get("error") if isinstance(envelope.get("error"), dict) else {}
        if error.get("code") == error_code:
            for name in list(headers):
                if name.lower() in names:
                    del headers[name]

    return hook


fault(
    Fault(
        "governance-health-no-model",
        "governance.health.schema",
        "model health without the `model` field",
        response=on(("health",), _health_no_model),
    )
)
fault(
    Fault(
        "governance-health-always-ready",
        "governance.health.loading",
        'model health says "ready" while the model loads',
        response=on(("health",), put("status", "ready")),
    )
)
fault(
    Fault(
        "governance-cold-start-no-retry-after",
        "governance.cold-start.retry-after",
        "a cold-start refusal without Retry-After",
        error_headers=_headers_when("model_loading", "retry-after"),
    )
)
fault(
    Fault(
        "governance-keys-no-raw-key",
        "governance.keys.create",
        "creating a key does not return the raw key",
        response=on(("keys",), _created_without_raw_key),
    )
)
fault(
    Fault(
        "governance-keys-list-empty",
        "governance.keys.list",
        "the key list is empty",
        response=on(("keys",), _listed_none),
    )
)
fault(
    Fault(
        "governance-keys-revoked-still-served",
        "governance.keys.revoke",
        "a revoked key's requests are answered 200",
        error=error_when(code("api_key_revoked"), 200),
    )
)
fault(
    Fault(
        "governance-credits-never-debited",
        "governance.credits.debited",
        "the balance never falls",
        response=on(("credits",), _balance_frozen),
    )
)
fault(
    Fault(
        "governance-credits-no-debits-listed",
        "governance.credits.transactions",
        "the credit transactions leave out deductions",
        response=on(("credit_transactions",), _no_debits),
    )
)
fault(
    Fault(
        "governance-usage-no-latency",
        "governance.usage.logged",
        "usage rows without latency",
        response=on(("usage",), _usage_without_latency),
    )
)
fault(
    Fault(
        "governance-rate-limit-no-headers",
        "governance.rate-limit.headers",
        "a 429 without the x-ratelimit-* headers",
        error_headers=_headers_when(
            "rate_limit_exceeded",
            "x-ratelimit-limit-requests",
            "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests",
        ),
    )
)
