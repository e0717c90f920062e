"""Faults that fail the errors checks: the error envelope and the status of each refusal.

Error faults recognise the condition by the envelope's `code` (and, for the two 401s, which share
`invalid_api_key`, by the message), as reference_server/app.py and auth.py raise them.
"""

from __future__ import annotations

from ._hooks import code, error_when
from ._registry import Fault, fault

_VALIDATION_CODES = frozenset(
    {"invalid_value", "invalid_type", "missing_required_parameter", "unknown_parameter"}
)

fault(
    Fault(
        "errors-no-envelope",
        "errors.envelope",
        'errors as {"detail": message}',
        error=lambda status, env: (status, {"detail": (env.get("error") or {}).get("message")}),
    )
)
fault(
    Fault(
        "errors-no-key-403",
        "errors.status.no-key",
        "403 for a missing key",
        error=error_when(lambda s, e: s == 401 and "didn't provide" in str(e.get("message")), 403),
    )
)
fault(
    Fault(
        "errors-bad-key-403",
        "errors.status.bad-key",
        "403 for a wrong key",
        error=error_when(lambda s, e: s == 401 and "Incorrect" in str(e.get("message")), 403),
    )
)
fault(
    Fault(
        "errors-unknown-model-400",
        "errors.status.unknown-model",
        "400 for an unknown model",
        error=error_when(code("model_not_found"), 400),
    )
)
fault(
    Fault(
        "errors-malformed-json-422",
        "errors.status.malformed-json",
        "422 for a body that is not JSON",
        error=error_when(code("invalid_json"), 422),
    )
)
fault(
    Fault(
        "errors-500-for-bad-json",
        "errors.no-5xx-for-client-error",
        "500 for a body that is not JSON",
        error=error_when(code("invalid_json"), 500),
    )
)
fault(
    Fault(
        "errors-wrong-content-type-400",
        "errors.status.wrong-content-type",
        "400 for a non-JSON content type",
        error=error_when(code("unsupported_media_type"), 400),
    )
)
fault(
    Fault(
        "errors-invalid-param-422",
        "errors.status.invalid-param",
        "422 for an invalid parameter",
        error=error_when(lambda s, e: s == 400 and e.get("code") in _VALIDATION_CODES, 422),
    )
)
fault(
    Fault(
        "errors-unknown-path-400",
        "errors.status.unknown-path",
        "400 for an unknown path (a 200 would be errors.invalid-request.accepted's finding)",
        error=error_when(code("unknown_url"), 400),
    )
)
fault(
    Fault(
        "errors-wrong-method-404",
        "errors.status.wrong-method",
        "404 for a method the path does not allow",
        error=error_when(code("method_not_allowed"), 404),
    )
)
fault(
    Fault(
        "errors-oversized-body-400",
        "errors.status.oversized-body",
        "400 for a body over the limit",
        error=error_when(code("request_too_large"), 400),
    )
)
fault(
    Fault(
        "errors-param-missing",
        "errors.param.named",
        "400s never name the parameter",
        error=error_when(lambda s, e: s == 400, edit=lambda env: {"error": {**env["error"], "param": None}}),
    )
)
fault(
    Fault(
        "errors-invalid-param-200",
        "errors.invalid-request.accepted",
        "an out-of-range parameter answered 200 (the error envelope sent as a success)",
        error=error_when(lambda s, e: s == 400 and e.get("code") == "invalid_value", 200),
    )
)
