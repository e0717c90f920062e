"""Small HTTP helpers the gateway's routes share: JSON bodies, query numbers, the error envelope."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import APIError

Handler = Callable[[Request], Awaitable[Response]]
MAX_BODY_BYTES = 64 * 1024  # management requests are tiny; refuse anything larger


def error_response(error: APIError) -> JSONResponse:
    return JSONResponse(error.envelope(), status_code=error.status, headers=error.headers)


def enveloped(handler: Handler) -> Handler:
    """Answer an `APIError` with the OpenAI envelope, whichever app these routes are mounted in."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except APIError as error:
            return error_response(error)

    return wrapper


async def json_object(request: Request, *, required: bool = False) -> dict[str, Any]:
    """The body as a JSON object; an empty body is `{}` unless one is required."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise APIError(413, f"request body larger than {MAX_BODY_BYTES} bytes")
    if not body.strip():
        if required:
            raise APIError(400, "a JSON object body is required")
        return {}
    try:
        value = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise APIError(400, f"the body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise APIError(400, "the body must be a JSON object")
    return value


def optional_str(body: dict[str, Any], field: str, *, max_len: int = 256) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise APIError(
            400, f"{field} must be a non-empty string of at most {max_len} characters", param=field
        )
    return value


def optional_int(body: dict[str, Any], field: str, *, minimum: int | None = None) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise APIError(400, f"{field} must be an integer{bound}", param=field)
    return value


def optional_str_list(body: dict[str, Any], field: str) -> list[str]:
    value = body.get(field)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > 256:
        raise APIError(400, f"{field} must be a list of at most 256 strings", param=field)
    return value


def query_int(request: Request, name: str, *, default: int, minimum: int = 1, maximum: int = 1000) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise APIError(400, f"query parameter {name} must be an integer", param=name) from exc
    if not minimum <= value <= maximum:
        raise APIError(400, f"query parameter {name} must be between {minimum} and {maximum}", param=name)
    return value
