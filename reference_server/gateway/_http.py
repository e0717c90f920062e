"""Small HTTP helpers the gateway's routes share: JSON bodies, query numbers, the error envelope."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._limits import require_unicode
from ..errors import APIError

Handler = Callable[[Request], Awaitable[Response]]
MAX_BODY_BYTES = 64 * 1024  # management requests are tiny; refuse anything larger
MAX_INT = 2**63 - 1  # every number the management API stores is a SQLite INTEGER (int64)


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
        value = json.loads(body, parse_constant=_not_json, parse_float=_finite)
    except (ValueError, RecursionError) as exc:  # ValueError: bad JSON, bad UTF-8, an int past 4,300 digits
        reason = "it nests too deeply" if isinstance(exc, RecursionError) else _clip(str(exc))
        raise APIError(400, f"the body is not valid JSON: {reason}", code="invalid_json") from None
    if not isinstance(value, dict):
        raise APIError(400, "the body must be a JSON object", code="invalid_json")
    require_unicode(value)
    return value


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{_clip(text, 40)} is out of range")
    return value


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def optional_str(body: dict[str, Any], field: str, *, max_len: int = 256) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_len or not value.isprintable():
        raise APIError(
            400,
            f"{field} must be a non-empty string of at most {max_len} printable characters",
            param=field,
        )
    return value


def optional_int(body: dict[str, Any], field: str, *, minimum: int = 0, maximum: int = MAX_INT) -> int | None:
    """An integer in [minimum, maximum] (by default a non-negative int64), or None when absent."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise APIError(400, f"{field} must be an integer between {minimum} and {maximum}", param=field)
    return value


def optional_seconds(body: dict[str, Any], field: str, *, maximum: float) -> float | None:
    """A finite number of seconds in [0, maximum], or None when absent."""
    value = body.get(field)
    if value is None:
        return None
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not 0 <= value <= maximum
    ):
        raise APIError(400, f"{field} must be a number of seconds between 0 and {maximum:g}", param=field)
    return float(value)


def optional_str_list(body: dict[str, Any], field: str) -> list[str]:
    value = body.get(field)
    if value is None:
        return []
    if (
        not isinstance(value, list)
        or len(value) > 256
        or not all(isinstance(v, str) and 0 < len(v) <= 256 for v in value)
    ):
        raise APIError(400, f"{field} must be a list of at most 256 non-empty strings", param=field)
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
