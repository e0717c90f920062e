"""Faults that fail the transport checks: what the HTTP layer declares about the body."""

from __future__ import annotations

from ._registry import Fault, fault


def _short_body(endpoint: str, headers: dict[str, str]) -> None:
    if endpoint == "models":
        headers["content-length"] = str(1024 * 1024)  # declares far more than is sent


def _json_as_text(endpoint: str, headers: dict[str, str]) -> None:
    if endpoint == "models":
        headers["content-type"] = "text/plain; charset=utf-8"


fault(
    Fault(
        "transport-short-body",
        "transport.complete",
        "/models declares a longer body than it sends",
        headers=_short_body,
    )
)
fault(
    Fault(
        "transport-json-as-text", "transport.json-body", "/models served as text/plain", headers=_json_as_text
    )
)
