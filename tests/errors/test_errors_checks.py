"""The errors checks on synthetic exchanges (error answers and their status): each passes on a good input
and fails on its fault's effect (the builders are in tests/_check_cases.py)."""

from __future__ import annotations

from typing import Any

from _check_cases import ERROR, Case, Cases, case_tests, err, faulty_error, lazy, one

from compat_suite.checks import run


def _refusal(status: int, fault_id: str, **error: Any) -> tuple[Case, Case]:
    """(passing, failing): a refusal with `status` (its error changed by `error`), then as the fault's
    error hook rewrites it."""
    refused = {"error": {**ERROR["error"], **error}}
    return one(err(status)), lazy(lambda: faulty_error(fault_id, status, refused))


CASES: Cases = {
    "errors.envelope": _refusal(400, "errors-no-envelope"),
    "errors.invalid-request.accepted": _refusal(400, "errors-invalid-param-200", code="invalid_value"),
    "errors.status.no-key": _refusal(401, "errors-no-key-403", message="You didn't provide an API key."),
    "errors.status.bad-key": _refusal(401, "errors-bad-key-403", message="Incorrect API key provided."),
    "errors.status.unknown-model": _refusal(404, "errors-unknown-model-400", code="model_not_found"),
    "errors.status.malformed-json": _refusal(400, "errors-malformed-json-422", code="invalid_json"),
    "errors.status.wrong-content-type": _refusal(
        415, "errors-wrong-content-type-400", code="unsupported_media_type"
    ),
    "errors.status.invalid-param": _refusal(400, "errors-invalid-param-422", code="invalid_value"),
    "errors.status.unknown-path": _refusal(404, "errors-unknown-path-400", code="unknown_url"),
    "errors.status.wrong-method": _refusal(405, "errors-wrong-method-404", code="method_not_allowed"),
    "errors.status.oversized-body": _refusal(413, "errors-oversized-body-400", code="request_too_large"),
    "errors.param.named": (
        one(err(), param="temperature"),
        lazy(lambda: faulty_error("errors-param-missing", 400, ERROR), param="temperature"),
    ),
    "errors.no-5xx-for-client-error": _refusal(400, "errors-500-for-bad-json", code="invalid_json"),
}

test_check_passes_on_good_input, test_check_fails_on_fault_effect = case_tests(CASES)


def test_expected_status_from_profile_overrides_default() -> None:
    assert run("errors.status.wrong-content-type", err(400), expected_status=400).passed
    assert not run("errors.status.wrong-content-type", err(400)).passed
