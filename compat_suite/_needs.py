"""What a proof needs from its answers, and the check that names the root cause when it is missing.

A proof's checks judge an answer of one kind. The kind is inferred from its exchanges: a
`StreamExchange` needs an event stream, an `error_response=True` proof needs a refusal (4xx), any other
exchange a 2xx JSON body; `proof(..., needs=...)` says it where inference is wrong. Each need is a
short chain of gates, each a registered check with the condition it guards: the first gate whose
condition fails names the one root cause, and the proof's other checks are `blocked`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .exchange import Exchange, StreamExchange

Need = str  # "json" | "event-stream" | "refusal" | "none"
NEEDS = ("json", "event-stream", "refusal", "none")


@dataclass(frozen=True)
class Gate:
    check: str  # the root-cause check: its finding is recorded when `holds` fails
    holds: Callable[[Exchange], bool]


def _answered(exchange: Exchange) -> bool:
    """A status came, and either some events or a complete body (a stream cut before its first event
    is a transport failure, not a stream's)."""
    events = getattr(exchange, "events", None)
    return exchange.status is not None and (bool(events) or not exchange.transport_error)


def _complete(exchange: Exchange) -> bool:
    return exchange.status is not None and not exchange.transport_error and not exchange.truncated


def _served(exchange: Exchange) -> bool:
    return exchange.status is not None and 200 <= exchange.status < 300


def _json_object(exchange: Exchange) -> bool:
    return isinstance(exchange.json, dict)


def _event_stream(exchange: Exchange) -> bool:
    if not isinstance(exchange, StreamExchange):
        return False
    body = exchange.body.strip()
    return bool(exchange.events) and not (body[:1] in (b"{", b"[") and exchange.json is not None)


def _refused(exchange: Exchange) -> bool:
    return exchange.status is not None and exchange.status >= 400


GATES: dict[Need, tuple[Gate, ...]] = {
    "json": (
        Gate("transport.complete", _complete),
        Gate("request.accepted", _served),
        Gate("transport.json-body", _json_object),
    ),
    "event-stream": (
        Gate("transport.complete", _answered),
        Gate("request.accepted", _served),
        Gate("stream.is-event-stream", _event_stream),
    ),
    "refusal": (
        Gate("transport.complete", lambda exchange: exchange.status is not None),
        Gate("errors.invalid-request.accepted", _refused),
    ),
    "none": (),
}
ROOT_CAUSE_CHECKS = frozenset(gate.check for gates in GATES.values() for gate in gates)


def needs_of(exchanges: tuple[Any, ...], error_response: bool, explicit: Any = None) -> list[Need]:
    """One need per exchange: `explicit` (one need for all, or one per exchange), else inferred."""
    if explicit is not None:
        given = [explicit] * len(exchanges) if isinstance(explicit, str) else list(explicit)
        if len(given) != len(exchanges) or any(n not in NEEDS for n in given):
            raise ValueError(f"needs={explicit!r}: one of {NEEDS}, or one per exchange")
        return given
    out: list[Need] = []
    for exchange in exchanges:
        if not isinstance(exchange, Exchange):
            out.append("none")
        elif error_response:
            out.append("refusal")
        elif isinstance(exchange, StreamExchange):
            out.append("event-stream")
        else:
            out.append("json")
    return out


def first_unmet(exchange: Exchange, need: Need) -> Gate | None:
    """The first gate of `need` that `exchange` does not pass, or None when it has what is needed."""
    for gate in GATES[need]:
        if not gate.holds(exchange):
            return gate
    return None
