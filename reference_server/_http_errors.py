"""The errors the server raises itself (an internal failure, the router's 404 and 405) as OpenAI's
error envelope, and the app's handlers that answer them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .errors import APIError

logger = logging.getLogger("reference_server")
ErrorAnswer = Callable[[APIError, str], Response]  # (error, endpoint) -> the enveloped response


def internal_error() -> APIError:
    return APIError(
        500,
        "The server had an error while processing your request.",
        type="server_error",
        code="server_error",
    )


def router_error(request: Request, exc: HTTPException) -> APIError:
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return APIError(
            404,
            f"Unknown request URL: {request.method} {request.url.path}.",
            code="unknown_url",
            headers=headers,
        )
    if exc.status_code == 405:
        allowed = headers.get("Allow") or headers.get("allow") or ""
        return APIError(
            405,
            f"Method {request.method} is not allowed on {request.url.path} (allowed: {allowed}).",
            code="method_not_allowed",
            headers=headers,
        )
    return APIError(exc.status_code, str(exc.detail), headers=headers)


def exception_handlers(answer: ErrorAnswer) -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """Starlette's handlers for what no route answered: router errors and unhandled exceptions."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return answer(router_error(request, exc), "unknown")

    async def unhandled(request: Request, exc: Exception) -> Response:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return answer(internal_error(), "unknown")

    return {HTTPException: http_error, Exception: unhandled}
