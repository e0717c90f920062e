"""Helpers every check area shares: reading a body safely, and the policy for what a check does
when its subject is missing.

The policy, the same in every area:

- A check never raises anything but `Finding` on hostile input (None json, garbage, wrong types).
- Only `transport.complete` reports a transport failure *as such*. Every other check that needs a
  body fails with "no JSON body" (naming the transport error when there was one), so one broken
  exchange fails loudly everywhere instead of passing silently.
- A check whose subject is owned by another check passes when that subject is absent: for
  example `chat.usage.sum` passes when there is no `usage` (that is `chat.usage.present`'s
  failure), `chat.stop.honoured` passes when the request sent no `stop`. One fault then fails
  one check, and the report names the real cause once.
- Evidence is `exchange.evidence(...)` plus the exact offending values; never a key.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import schemas

from ..exchange import Exchange, StreamExchange
from ._registry import Finding

MAX_SCHEMA_ERRORS = 10  # enough to see the pattern, short enough to read in a report


def evidence(exchange: Exchange, **extra: Any) -> dict[str, Any]:
    """The exchange as evidence, plus the offending values."""
    return exchange.evidence(**extra)


def body(exchange: Exchange) -> dict[str, Any]:
    """The response body as a JSON object, or a Finding that says why there is none."""
    payload = exchange.json
    if isinstance(payload, dict):
        return payload
    if exchange.transport_error:
        why = f"no JSON body: the exchange failed in transport ({exchange.transport_error})"
    elif not exchange.body:
        why = f"no JSON body: the response (status {exchange.status}) was empty"
    elif payload is None:
        why = f"no JSON body: the response (status {exchange.status}) does not parse as JSON"
    else:
        why = f"no JSON body: the response is JSON {type(payload).__name__}, not an object"
    raise Finding(why, evidence(exchange))


def request_body(exchange: Exchange) -> dict[str, Any]:
    """The request's JSON object ({} when the request had none)."""
    payload = exchange.request.json
    return payload if isinstance(payload, dict) else {}


def choices(exchange: Exchange, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """`payload["choices"]` as a non-empty list of objects, or a Finding."""
    items = payload.get("choices")
    if not isinstance(items, list) or not items:
        raise Finding(
            f"`choices` is {_short(items)}, not a non-empty list", evidence(exchange, choices=items)
        )
    bad = [i for i, c in enumerate(items) if not isinstance(c, dict)]
    if bad:
        raise Finding(f"choices {bad} are not objects", evidence(exchange, choices=items))
    return items


def schema_check(exchange: Exchange, component: str, instance: Any) -> None:
    """Fail with every schema error (up to MAX_SCHEMA_ERRORS) of `instance` against `component`."""
    found = schemas.errors(component, instance)
    if found:
        listed = [{"param": e.param, "message": e.message, "keyword": e.validator} for e in found]
        first = found[0]
        where = f" at `{first.param}`" if first.param else ""
        raise Finding(
            f"{len(found)} schema error(s) against {component}; first{where}: {first.message}",
            evidence(exchange, schema_errors=listed[:MAX_SCHEMA_ERRORS]),
        )


def is_int(value: Any) -> bool:
    """An integer that is not a bool (JSON `true` is not a count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def index_of(choice: dict[str, Any], position: int) -> int:
    """A choice's `index` when it is an integer, else its position (hostile indices stay hashable)."""
    value = choice.get("index")
    return value if is_int(value) else position


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def requested_n(request: dict[str, Any]) -> int:
    n = request.get("n", 1)
    return n if is_int(n) and n >= 1 else 1


def token_limit(request: dict[str, Any], *names: str) -> int | None:
    """The first of `names` the request sets to a positive integer."""
    for name in names:
        value = request.get(name)
        if is_int(value) and value > 0:
            return value
    return None


def is_error_chunk(chunk: Any) -> bool:
    """A streamed event that reports an error (judged by `stream.error.event`, skipped elsewhere)."""
    return isinstance(chunk, dict) and "error" in chunk


def stream_chunks(exchange: StreamExchange) -> list[dict[str, Any]]:
    """The stream's JSON chunks that are objects and not error events, or a Finding when none are."""
    if not isinstance(exchange, StreamExchange):
        raise Finding("not a streamed exchange", evidence(exchange))
    out = [c for c in exchange.chunks if isinstance(c, dict) and not is_error_chunk(c)]
    if not out:
        why = f" (transport error: {exchange.transport_error})" if exchange.transport_error else ""
        raise Finding(
            f"no JSON chunks in the stream (status {exchange.status}){why}",
            evidence(exchange, events=len(exchange.events)),
        )
    return out


def chunk_ref(chunk: dict[str, Any], position: int) -> dict[str, Any]:
    """Where a chunk is, for evidence: its position and the chunk itself (short)."""
    return {"position": position, "chunk": _truncate_json(chunk)}


def _truncate_json(value: Any, limit: int = 600) -> Any:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= limit else text[:limit] + "…"


def _short(value: Any, limit: int = 80) -> str:
    """`value` as short JSON, for a message."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


short = _short


def problems_of(exchange: StreamExchange, kinds: Sequence[str]) -> list[dict[str, Any]]:
    """The reader's problems of the given kinds, as evidence."""
    return [
        {"kind": p.kind, "offset": p.offset, "detail": p.detail} for p in exchange.problems if p.kind in kinds
    ]


def excerpt(data: bytes, offset: int, radius: int = 80) -> str:
    """Raw bytes around `offset`, escaped, for evidence."""
    start = max(0, offset - radius)
    return data[start : offset + radius].decode("utf-8", errors="backslashreplace")


# -- what every area's answers share ----------------------------------------------------------
# Plausible Unix seconds: after 2020-01-01, before 2100. Milliseconds (1.7e12) fall outside.
CREATED_MIN, CREATED_MAX = 1_577_836_800, 4_102_444_800


def media_type(exchange: Exchange) -> str:
    """The response's Content-Type without its parameters (charset), lower case."""
    return exchange.content_type.split(";", 1)[0].strip().lower()


def expect_media_type(exchange: Exchange, expected: str) -> None:
    if media_type(exchange) != expected:
        raise Finding(
            f"Content-Type is {exchange.content_type!r}, expected {expected}",
            evidence(exchange, content_type=exchange.content_type),
        )


def expect_answered(exchange: Exchange, what: str, *, issue: str | None = None) -> dict[str, Any]:
    """The JSON body of a 2xx answer to a request that must be served, or a Finding that says `what`
    was refused (citing the known `issue`), with the error the target gave."""
    status = exchange.status or 0
    if not 200 <= status < 300:
        error = exchange.json.get("error") if isinstance(exchange.json, dict) else None
        cited = f" ({issue})" if issue else ""
        raise Finding(f"{what} was refused with status {status}{cited}", evidence(exchange, error=error))
    return body(exchange)


def expect_stream_matches_unary(
    message: str, streamed: Any, unary: Any, *, stream: Exchange, unary_exchange: Exchange
) -> None:
    """What the stream gave equals what the unary answer to the same request gave, or a Finding
    (`message`) with both and both exchanges."""
    if streamed != unary:
        raise Finding(
            message,
            {
                "streamed": streamed,
                "unary": unary,
                "stream": evidence(stream),
                "unary_exchange": evidence(unary_exchange),
            },
        )


def expect_object(exchange: Exchange, expected: str) -> None:
    payload = body(exchange)
    if payload.get("object") != expected:
        raise Finding(
            f"`object` is {_short(payload.get('object'))}, expected {expected!r}",
            evidence(exchange, object=payload.get("object")),
        )


def expect_id(exchange: Exchange) -> None:
    value = body(exchange).get("id")
    if not isinstance(value, str) or not value.strip():
        raise Finding(f"`id` is {_short(value)}, expected a non-empty string", evidence(exchange, id=value))


def expect_usage(exchange: Exchange, fields: Sequence[str]) -> dict[str, Any]:
    """`usage` with each of `fields` a non-negative integer, or a Finding."""
    usage = body(exchange).get("usage")
    if not isinstance(usage, dict):
        raise Finding(f"`usage` is {_short(usage)}, expected an object", evidence(exchange, usage=usage))
    bad = {f: usage.get(f) for f in fields if not (is_int(usage.get(f)) and usage[f] >= 0)}
    if bad:
        raise Finding(
            f"usage fields not non-negative integers: {_short(bad)}", evidence(exchange, usage=usage)
        )
    return usage
