"""The recorded exchange as the SDK checks replay it: the API path it called, the headers to hand
back, whether it streamed, and where in its bytes an SDK stopped reading."""

from __future__ import annotations

from ..exchange import Exchange, StreamExchange
from . import _common as c

REPLAY_BASE_URL = "http://recorded.invalid/v1"
# Hop-by-hop and framing headers describe the original transfer, not the replayed bytes.
_FRAMING_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection"})


def path_of(exchange: Exchange) -> str:
    """The request path after the base URL's API root (`/chat/completions`, `/models/x`)."""
    url = exchange.request.url.split("?", 1)[0]
    for marker in ("/responses", "/chat/completions", "/completions", "/embeddings", "/models"):
        at = url.rfind(marker)
        if at >= 0:
            return url[at:]
    return "/" + url.rsplit("/", 1)[-1]


def replay_headers(exchange: Exchange) -> dict[str, str]:
    return {k: v for k, v in exchange.headers.items() if k.lower() not in _FRAMING_HEADERS}


def has_error_event(exchange: Exchange) -> bool:
    return isinstance(exchange, StreamExchange) and any(c.is_error_chunk(ch) for ch in exchange.chunks)


def wants_stream(exchange: Exchange) -> bool:
    return isinstance(exchange, StreamExchange) or c.request_body(exchange).get("stream") is True


def byte_of(exchange: Exchange, position: int) -> int | None:
    """The byte offset of the data event an SDK was reading (`position`), or None."""
    if not isinstance(exchange, StreamExchange):
        return None
    events = exchange.data_events
    return events[position].offset if position < len(events) else None
