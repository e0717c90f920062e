"""A request's JSON body: read within the size limit, parsed to an object of Unicode text, and
checked against its schema, each failure the 4xx OpenAI answers with."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

import schemas

from . import _limits as limits
from ._work import CpuWorker
from .errors import APIError

Json = dict[str, Any]
PARSE_INLINE_BYTES = 64 * 1024  # larger bodies are parsed and checked on the CPU worker
_VALIDATION_CODES = {
    "required": "missing_required_parameter",
    "type": "invalid_type",
    "additionalProperties": "unknown_parameter",
    "unevaluatedProperties": "unknown_parameter",
}


async def read_body(request: Request, max_bytes: int, cpu: CpuWorker) -> Json:
    """The body as a JSON object: 415 for another media type, 413 past `max_bytes`, 400 for
    anything that is not a JSON object."""
    content_type = request.headers.get("content-type")
    if content_type is not None and not _is_json_media_type(content_type):
        raise APIError(
            415,
            f"Unsupported Content-Type {content_type.split(';')[0]!r}; send application/json.",
            code="unsupported_media_type",
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    parts, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > max_bytes:  # a lying or absent Content-Length
            raise _too_large(max_bytes)
        parts.append(part)
    raw = b"".join(parts)
    return await cpu.run(_parse_body, raw) if len(raw) > PARSE_INLINE_BYTES else _parse_body(raw)


def validate(component: str, body: Json) -> None:
    """400 naming the first parameter the schema rejects (request schemas are closed, so an
    unknown argument is one)."""
    found = schemas.errors(component, body)
    if found:
        first = found[0]
        label = f"'{first.param}'" if first.param else "the request body"
        raise APIError(
            400,
            f"Invalid value for {label}: {_clip(first.message)}",
            param=first.param,
            code=_VALIDATION_CODES.get(first.validator, "invalid_value"),
        )


def _too_large(limit: int) -> APIError:
    return APIError(413, f"The request body is larger than {limit} bytes.", code="request_too_large")


def _parse_body(raw: bytes) -> Json:
    """A request body as a JSON object whose every string is Unicode text, or the 400 saying why not."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise APIError(
            400,
            "We could not parse the JSON body of your request. The body must be a JSON object.",
            code="invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise APIError(400, "The request body must be a JSON object.", code="invalid_json")
    limits.require_unicode(body)
    return body


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
