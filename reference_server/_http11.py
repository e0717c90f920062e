"""uvicorn's h11 protocol with the limits a server facing real clients needs.

uvicorn bounds neither how long a request head may take nor how long its body may take (a
connection that drips one header line every few seconds, or sends a body shorter than its
Content-Length, stays open for ever), and answers protocol errors in plain text. This protocol
adds, per connection:

- a head size limit: a request line plus headers past `head_limit` bytes is a 431;
- a head deadline: a connection that has not sent a whole head within `head_timeout_s` of
  opening (or of the head's first byte) is answered 408 and closed;
- a body deadline: a body not fully received within `body_timeout_s` of its head is answered 408
  (the app sees the client disconnect) and the connection closed;
- every answer the protocol writes itself is OpenAI's error envelope.

It is chosen explicitly (`HttpLimits.protocol()` as uvicorn's `http`), so uvicorn's "auto" choice
of httptools, which enforces no head size at all, never applies.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_HEAD_LIMIT = 32 * 1024  # what large public APIs accept for all headers together
DEFAULT_HEAD_TIMEOUT_S = 10.0
DEFAULT_BODY_TIMEOUT_S = 60.0  # a 4 MiB body at 70 KB/s


@dataclass(frozen=True)
class HttpLimits:
    head_limit: int = DEFAULT_HEAD_LIMIT
    head_timeout_s: float = DEFAULT_HEAD_TIMEOUT_S
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.head_limit < 1024 or self.head_timeout_s <= 0 or self.body_timeout_s <= 0:
            raise ValueError("head_limit must be at least 1024 bytes and the timeouts positive")

    def protocol(self) -> type[H11Protocol]:
        """The protocol class to hand uvicorn as `http=`."""
        return type("GuardedH11Protocol", (_GuardedH11Protocol,), {"limits": self})


class _Connection(h11.Connection):
    """h11's connection, remembering the protocol error it raised (for the status to answer)."""

    last_error: h11.RemoteProtocolError | None = None

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.last_error = exc
            raise


class _GuardedH11Protocol(H11Protocol):
    limits: HttpLimits = HttpLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _Connection(h11.SERVER, max_incomplete_event_size=self.limits.head_limit)
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._head_started = False

    # -- the connection's life -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(self.limits.head_timeout_s, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and not self._head_started:
            self._head_started = True  # a new head begins: its own deadline
            self._rearm_head()
        super().data_received(data)
        self._follow_state()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may process a pipelined request
        self._follow_state()

    def _follow_state(self) -> None:
        state = self.conn.their_state
        if state is not h11.IDLE and self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
            self._head_started = False
        if state is h11.SEND_BODY and self._body_timer is None:
            self._body_timer = self.loop.call_later(self.limits.body_timeout_s, self._body_timed_out)
        elif state is not h11.SEND_BODY and self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        if state is h11.IDLE and self._head_timer is None and self._head_started:
            self._rearm_head()

    def _rearm_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.limits.head_timeout_s, self._head_timed_out)

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None

    # -- timeouts --------------------------------------------------------------------------------
    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.our_state is h11.IDLE and self._head_started:
            self._answer(408, "The request head was not received in time.", "request_timeout")
        else:  # nothing was sent at all (or an answer is under way): just close
            self.transport.close()

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.SEND_BODY:
            return
        cycle = self.cycle
        if cycle is not None:
            cycle.disconnected = True  # the app's next receive is the disconnect; its answer goes nowhere
            cycle.message_event.set()
            if cycle.response_started:
                self.transport.close()
                return
        self._answer(408, "The request body was not received in time.", "request_timeout")

    # -- answers the protocol writes itself -----------------------------------------------------
    def send_400_response(self, msg: str) -> None:
        error = self.conn.last_error
        status = getattr(error, "error_status_hint", 400) or 400
        if status == 431:
            message = f"The request head is larger than {self.limits.head_limit} bytes."
            self._answer(431, message, "request_header_fields_too_large")
        else:
            self._answer(400, "Invalid HTTP request received.", "invalid_http_request")

    def _answer(self, status: int, message: str, code: str) -> None:
        """Write an error envelope and close; the connection is not reused."""
        body = json.dumps(
            {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
        ).encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        ).encode("ascii")
        if not self.transport.is_closing():
            self.transport.write(head + body)
            self.transport.close()


_REASONS = {400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large"}
