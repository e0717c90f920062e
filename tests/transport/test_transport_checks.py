"""The transport checks on synthetic exchanges (what the HTTP layer declares): each passes on a good input
and fails on its fault's effect (the builders are in tests/_check_cases.py)."""

from __future__ import annotations

from _check_cases import BASE, MODELS, Cases, case_tests, exchange, one

from compat_suite.exchange import Exchange, RecordedRequest

CASES: Cases = {
    "transport.complete": (
        one(exchange("models", None, MODELS)),
        lambda: (
            (
                Exchange(
                    "models",
                    RecordedRequest("GET", BASE + "/models", {}),
                    status=200,
                    transport_error="RemoteProtocolError: peer closed connection",
                ),
            ),
            {},
        ),
    ),
    "transport.json-body": (
        one(exchange("models", None, MODELS)),
        one(exchange("models", None, MODELS, headers={"content-type": "text/plain; charset=utf-8"})),
    ),
}

test_check_passes_on_good_input, test_check_fails_on_fault_effect = case_tests(CASES)
