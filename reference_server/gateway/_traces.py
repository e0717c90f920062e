"""Trace capture: when the trace header is set, a request's metadata is kept and given an id.

A trace holds what a debugging user needs (method, path, model, status, usage, latency, and the
request headers with every secret redacted), never a key or a message body.
"""

from __future__ import annotations

import secrets as _secrets
import time
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request

from schemas import redact_headers

_TRUTHY = frozenset({"1", "true", "yes", "on"})


def wants_trace(request: Request, header: str | None) -> bool:
    return bool(header) and request.headers.get(header, "").strip().lower() in _TRUTHY


def new_trace_id() -> str:
    return f"trace_{_secrets.token_hex(12)}"


def request_metadata(
    request: Request, endpoint: str, model: str | None, *, secrets: Iterable[str] = ()
) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.url.path,
        "endpoint": endpoint,
        "model": model,
        "request_headers": redact_headers(request.headers.items(), secrets),
        "started_at": time.time(),
    }
