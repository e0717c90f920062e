"""Deliberate deviations, one id each, so that every conformance check is proven able to fail.

`compat-suite serve --fault ID [--fault ID ...]` serves them; `compat-suite faults` prints the
fault-to-check table. A fault is data plus small hooks; the app calls the hooks of the active
`FaultSet` at fixed points and they default to doing nothing:

- `request(endpoint, body)`     rewrite the parsed JSON request before it is served
- `response(endpoint, payload, request)`  rewrite a unary JSON response body
- `chunk(endpoint, payload, position, request)`  rewrite one streamed chunk (return None to drop it)
- `frame(data)`                 encode one SSE event's data as bytes
- `terminator()`                the bytes that end a stream (normally `data: [DONE]\n\n`)
- `headers(endpoint, headers)`  rewrite response headers (a mutable dict)
- `error(status, envelope)`     rewrite an error response: returns (status, envelope)
- `error_headers(status, envelope, headers)`  rewrite an error response's headers (a mutable dict)
- `batch_stream`                a flag: send a stream's frames and terminator in one write at the end
- `only_for(headers)`           a predicate on the request's headers: the fault applies to matching
                                requests only (e.g. one SDK's), so it can fail exactly one client check

The app calls `request_scope(request.headers)` once per request, before any hook.

The faults themselves live one module per check area (`chat.py`, `stream.py`, ...), named like the
check areas; a fault sits in the module of the check it makes fail, and each module registers its
faults on import. `catalog()` imports every public module of this package, so a new area needs no
edit elsewhere; tests/test_faults_catalog.py keeps the table complete.
"""

from ._registry import (
    DEFAULT_TERMINATOR,
    Fault,
    FaultSet,
    Json,
    catalog,
    default_frame,
    fault,
    request_scope,
    table,
)

__all__ = [
    "DEFAULT_TERMINATOR",
    "Fault",
    "FaultSet",
    "Json",
    "catalog",
    "default_frame",
    "fault",
    "request_scope",
    "table",
]
