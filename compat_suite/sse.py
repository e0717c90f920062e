"""A strict server-sent-events reader over raw bytes.

PLACEHOLDER INTERFACE — the implementation lands with the SSE reader work. The dataclasses and
the method signatures below are the contract the rest of the suite uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event, as the WHATWG event-stream algorithm defines it."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    received_ns: int = 0  # perf_counter_ns when the bytes that completed this event arrived
    offset: int = 0  # byte offset of the event's first line in the stream


@dataclass(frozen=True)
class SSEProblem:
    """Something a strict reader objects to; `kind` is a stable kebab-case name."""

    kind: str
    offset: int
    detail: str


@dataclass
class SSEReader:
    """Feed raw bytes as they arrive; get events as soon as they are complete."""

    events: list[SSEEvent] = field(default_factory=list)
    problems: list[SSEProblem] = field(default_factory=list)

    def feed(self, chunk: bytes, received_ns: int) -> list[SSEEvent]:
        raise NotImplementedError

    def close(self, *, complete: bool = True) -> list[SSEEvent]:
        raise NotImplementedError
