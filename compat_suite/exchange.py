"""What a check sees: one recorded HTTP exchange, with no transport attached."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from schemas import redact_headers, redact_text

from ._strict_json import reject_constant
from .sse import SSEEvent, SSEProblem

EVIDENCE_BYTES = 4096


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    @cached_property
    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


@dataclass
class Exchange:
    """A request and everything that came back, as bytes and timestamps.

    `transport_error` is set when no complete response arrived (timeout, reset, oversized body);
    `status` may still be set when headers arrived first.
    """

    endpoint: str  # chat | completions | embeddings | models | model | health | ...
    request: RecordedRequest
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    transport_error: str | None = None
    truncated: bool = False  # the body was cut at the suite's size limit
    rate_limited: str | None = None  # why the target gave up: still 429 past its retry budget
    refusals: list[dict[str, Any]] = field(default_factory=list)  # the 429s waited out before this answer
    started_ns: int = 0
    first_byte_ns: int | None = None
    finished_ns: int | None = None

    @cached_property
    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body, parse_constant=reject_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):  # a hostile body may nest deeply
            return None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def tail(self, n: int = 512) -> str:
        return self.body[-n:].decode("utf-8", errors="backslashreplace")

    def evidence(self, secrets: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
        """The exchange as JSON-safe evidence with secrets redacted."""
        req_body = self.request.body[:EVIDENCE_BYTES].decode("utf-8", errors="backslashreplace")
        body = self.body[:EVIDENCE_BYTES].decode("utf-8", errors="backslashreplace")
        out: dict[str, Any] = {
            "request": {
                "method": self.request.method,
                "url": redact_text(self.request.url, secrets),
                "headers": redact_headers(self.request.headers, secrets),
                "body": redact_text(req_body, secrets),
            },
            "status": self.status,
            "headers": redact_headers(self.headers, secrets),
            "body": redact_text(body, secrets),
            "body_bytes": len(self.body),
        }
        if self.transport_error:
            out["transport_error"] = redact_text(self.transport_error, secrets)
        if self.truncated:
            out["truncated"] = True
        if self.refusals:
            out["rate_limit_refusals"] = self.refusals
        out.update(extra)
        return out


@dataclass
class StreamExchange(Exchange):
    """A streamed exchange: the raw bytes plus the events a strict reader parsed from them."""

    events: list[SSEEvent] = field(default_factory=list)
    problems: list[SSEProblem] = field(default_factory=list)

    @property
    def data_events(self) -> list[SSEEvent]:
        """Events before `[DONE]` whose data is not the terminator."""
        out = []
        for event in self.events:
            if event.data == "[DONE]":
                break
            out.append(event)
        return out

    _chunks: tuple[tuple[int, int], list[Any]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def chunks(self) -> list[Any]:
        """Each data event's JSON (None where it is not JSON), up to `[DONE]`. Parsed once per
        list of events (every check of a stream reads them; load runs judge thousands)."""
        key = (id(self.events), len(self.events))
        if self._chunks is None or self._chunks[0] != key:
            out = []
            for event in self.data_events:
                try:
                    out.append(json.loads(event.data, parse_constant=reject_constant))
                except (ValueError, RecursionError):
                    out.append(None)
            self._chunks = (key, out)
        return self._chunks[1]

    @property
    def done(self) -> bool:
        return any(e.data == "[DONE]" for e in self.events)
