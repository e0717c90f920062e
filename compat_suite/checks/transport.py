"""Checks of the HTTP exchange itself, before any shape: it completed, and JSON came as JSON."""

from __future__ import annotations

from ..exchange import Exchange
from . import _common as c
from ._registry import MUST, Finding, check

ENDPOINTS = ("chat", "completions", "embeddings", "models", "model")


@check("transport.complete", severity=MUST, endpoints=ENDPOINTS)
def transport_complete(exchange: Exchange) -> None:
    """A complete HTTP response arrived within the timeout and under the size limit."""
    if exchange.transport_error or exchange.truncated or exchange.status is None:
        why = exchange.transport_error or (
            "body cut at the size limit" if exchange.truncated else "no status"
        )
        raise Finding(f"incomplete response: {why}", c.evidence(exchange))


@check("transport.json-body", severity=MUST, endpoints=ENDPOINTS)
def transport_json_body(exchange: Exchange) -> None:
    """A JSON endpoint answers with Content-Type application/json and a body that parses."""
    c.expect_media_type(exchange, "application/json")
    c.body(exchange)
