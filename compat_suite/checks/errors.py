"""Checks of error answers: the OpenAI envelope, the status for each client mistake, `param`.

The expected status of each condition is OpenAI's (schemas.DEFAULT_STATUSES) unless
the caller passes `expected_status=` (the profile's documented status for that condition).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from schemas import DEFAULT_STATUSES

from ..exchange import Exchange
from . import _common as c
from ._registry import MUST, SHOULD, Finding, Severity, check

ENDPOINTS = ("chat", "completions", "embeddings", "models", "model", "responses")
ExpectedStatus = int | Collection[int] | None


def _status(exchange: Exchange) -> int:
    if exchange.status is None:
        why = f" ({exchange.transport_error})" if exchange.transport_error else ""
        raise Finding(f"no response status: the exchange failed in transport{why}", c.evidence(exchange))
    return exchange.status


def _expect_status(exchange: Exchange, condition: str, expected: ExpectedStatus) -> None:
    wanted = DEFAULT_STATUSES[condition] if expected is None else expected
    allowed = {wanted} if isinstance(wanted, int) else set(wanted)
    status = _status(exchange)
    if status not in allowed:
        shown = " or ".join(str(s) for s in sorted(allowed))
        raise Finding(
            f"{condition}: status {status}, expected {shown}", c.evidence(exchange, expected=sorted(allowed))
        )


def _status_check(check_id: str, doc: str, severity: Severity = MUST) -> Callable[[Exchange], None]:
    """Register the status check of one client mistake: `errors.status.<condition>`."""
    condition = check_id.removeprefix("errors.status.")

    def status_check(exchange: Exchange, *, expected_status: ExpectedStatus = None) -> None:
        _expect_status(exchange, condition, expected_status)

    status_check.__doc__ = doc
    status_check.__name__ = status_check.__qualname__ = "errors_status_" + condition.replace("-", "_")
    return check(check_id, severity=severity, endpoints=ENDPOINTS)(status_check)


# One check per client mistake; the expected status comes from the profile (OpenAI's by default).
_status_check("errors.status.no-key", "A request with no API key is refused with 401.")
_status_check("errors.status.bad-key", "A request with a wrong API key is refused with 401.")
_status_check("errors.status.unknown-model", "A request for a model that does not exist gets 404.")
_status_check("errors.status.malformed-json", "A body that is not JSON gets 400.")
# 415, 405 and 413 are HTTP's statuses (RFC 9110 15.5.16, 15.5.6, 15.5.14); OpenAI's spec documents
# none of them for its endpoints, so under the strict profile they are SHOULD: a miss is a warning.
_status_check(
    "errors.status.wrong-content-type",
    "A JSON body sent as another content type gets 415 (HTTP's status; OpenAI's spec is silent: SHOULD).",
    SHOULD,
)
_status_check("errors.status.invalid-param", "A parameter out of its documented range gets 400.")
_status_check("errors.status.unknown-path", "A path the API does not have gets 404.")
_status_check(
    "errors.status.wrong-method",
    "A method no documented operation defines on the path gets 405 (HTTP's status; OpenAI's spec is silent: SHOULD).",
    SHOULD,
)
_status_check(
    "errors.status.oversized-body",
    "A body over the documented size limit gets 413 (HTTP's status; OpenAI's spec is silent: SHOULD).",
    SHOULD,
)


@check("errors.invalid-request.accepted", severity=MUST, endpoints=ENDPOINTS)
def errors_invalid_request_accepted(exchange: Exchange) -> None:
    """A request the API must refuse (a client mistake) is not served: no 2xx or 3xx answer.

    The root cause of every error-answer proof: when it fails, the checks of the error answer are
    blocked, not failed one by one on a success body."""
    status = _status(exchange)
    if status < 400:
        raise Finding(
            f"a request the API must refuse was answered {status}: the mistake was not caught",
            c.evidence(exchange),
        )


@check("errors.envelope", severity=MUST, endpoints=ENDPOINTS)
def errors_envelope(exchange: Exchange) -> None:
    """An error answer is the OpenAI envelope: {"error": {message, type, param, code}}."""
    status = _status(exchange)
    if status < 400:
        raise Finding(f"expected an error status, got {status}", c.evidence(exchange))
    c.schema_check(exchange, "ErrorResponse", c.body(exchange))


@check("errors.param.named", severity=MUST, endpoints=ENDPOINTS)
def errors_param_named(exchange: Exchange, *, param: str) -> None:
    """A 400 for an invalid parameter names that parameter in `error.param`."""
    error = c.body(exchange).get("error")
    if not isinstance(error, dict):
        return  # no envelope to read: errors.envelope's failure
    if error.get("param") != param:
        raise Finding(
            f"error.param is {c.short(error.get('param'))}, expected {param!r}",
            c.evidence(exchange, expected_param=param, error=error),
        )


@check("errors.no-5xx-for-client-error", severity=MUST, endpoints=ENDPOINTS)
def errors_no_5xx_for_client_error(exchange: Exchange) -> None:
    """A client mistake never gets a 5xx."""
    status = _status(exchange)
    if status >= 500:
        raise Finding(
            f"status {status} for a client mistake (the server blamed itself)", c.evidence(exchange)
        )
