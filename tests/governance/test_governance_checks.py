"""The governance checks on synthetic exchanges (the gateway's management answers and refusals): each
passes on a good input and fails on its fault's effect (the builders are in tests/_check_cases.py)."""

from __future__ import annotations

from _check_cases import (
    RAW_KEY,
    Cases,
    Json,
    case_tests,
    chat,
    err,
    exchange,
    faulty,
    faulty_error,
    faulty_error_headers,
    lazy,
    one,
)

HEALTH: Json = {"model": "m", "status": "ready"}
LOADING: Json = {"model": "m", "status": "loading"}
NEW_KEY: Json = {"id": "key_1", "object": "api_key", "prefix": "inf_new", "key": RAW_KEY}
KEY_LIST: Json = {
    "object": "list",
    "data": [{"id": "key_0", "prefix": "inf_old"}, {"id": "key_1", "prefix": "inf_new"}],
}
KEY_REQ: Json = {"name": "ci"}
REVOKED_KEY: Json = {"id": "key_1", "revoked": True}
BALANCE: Json = {"object": "credit_balance", "balance_micros": 1_000_000, "balance": 1.0}
SPENT: Json = {"object": "credit_balance", "balance_micros": 999_993, "balance": 0.999993}
TRANSACTIONS: Json = {
    "object": "list",
    "data": [{"id": 1, "amount_micros": 1_000_000}, {"id": 2, "amount_micros": -7}],
}
USAGE_LOG: Json = {
    "object": "list",
    "data": [{"request_id": "req_1", "prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7,
              "cost_micros": 7, "latency_ms": 12.5}],
}  # fmt: skip


def envelope(code: str, message: str = "refused") -> Json:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}


JSON_CT = {"content-type": "application/json"}
COLD_HEADERS = {**JSON_CT, "retry-after": "5"}
RATE_HEADERS = {**JSON_CT, "retry-after": "30", "x-ratelimit-limit-requests": "2",
                "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "30s"}  # fmt: skip

CASES: Cases = {
    "governance.health.schema": (
        one(exchange("health", None, HEALTH)),
        lazy(lambda: exchange("health", None, faulty("governance-health-no-model", "health", HEALTH, {}))),
    ),
    "governance.health.loading": (
        one(exchange("health", None, LOADING)),
        lazy(
            lambda: exchange("health", None, faulty("governance-health-always-ready", "health", LOADING, {}))
        ),
    ),
    "governance.cold-start.retry-after": (
        one(err(502, envelope("model_loading"), headers=COLD_HEADERS)),
        lazy(
            lambda: faulty_error_headers(
                "governance-cold-start-no-retry-after", 502, envelope("model_loading"), COLD_HEADERS
            )
        ),
    ),
    "governance.keys.create": (
        one(exchange("keys", KEY_REQ, NEW_KEY, status=201), chat(), key_prefix="inf_"),
        lazy(
            lambda: (
                exchange(
                    "keys",
                    KEY_REQ,
                    faulty("governance-keys-no-raw-key", "keys", NEW_KEY, KEY_REQ),
                    status=201,
                ),
                err(401, envelope("invalid_api_key")),
            ),
            key_prefix="inf_",
        ),
    ),
    "governance.keys.list": (
        one(exchange("keys", None, KEY_LIST), key_id="key_1", raw_key=RAW_KEY),
        lazy(
            lambda: exchange("keys", None, faulty("governance-keys-list-empty", "keys", KEY_LIST, {})),
            key_id="key_1",
            raw_key=RAW_KEY,
        ),
    ),
    "governance.keys.revoke": (
        one(exchange("key", None, REVOKED_KEY), err(403, envelope("api_key_revoked")), expected_status=403),
        lazy(
            lambda: (
                exchange("key", None, REVOKED_KEY),
                faulty_error("governance-keys-revoked-still-served", 403, envelope("api_key_revoked")),
            ),
            expected_status=403,
        ),
    ),
    "governance.credits.debited": (
        one(exchange("credits", None, BALANCE), exchange("credits", None, SPENT)),
        lazy(
            lambda: tuple(
                exchange("credits", None, faulty("governance-credits-never-debited", "credits", b, {}))
                for b in (BALANCE, SPENT)
            )
        ),
    ),
    "governance.credits.transactions": (
        one(exchange("credit_transactions", None, TRANSACTIONS)),
        lazy(
            lambda: exchange(
                "credit_transactions",
                None,
                faulty("governance-credits-no-debits-listed", "credit_transactions", TRANSACTIONS, {}),
            )
        ),
    ),
    "governance.usage.logged": (
        one(exchange("usage", None, USAGE_LOG), request_id="req_1", total_tokens=7),
        lazy(
            lambda: exchange("usage", None, faulty("governance-usage-no-latency", "usage", USAGE_LOG, {})),
            request_id="req_1",
            total_tokens=7,
        ),
    ),
    "governance.rate-limit.headers": (
        one(err(429, envelope("rate_limit_exceeded"), headers=RATE_HEADERS)),
        lazy(
            lambda: faulty_error_headers(
                "governance-rate-limit-no-headers", 429, envelope("rate_limit_exceeded"), RATE_HEADERS
            )
        ),
    ),
}

test_check_passes_on_good_input, test_check_fails_on_fault_effect = case_tests(CASES)
