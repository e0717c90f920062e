"""Bounds on every read the suite makes: a whole-exchange deadline and a body size cap.

`Watchdog` enforces the deadline for any httpcore-based client (the suite's own httpx `Target`,
the pre-check, and the SDK's httpx2 client): at the deadline it shuts the exchange's socket down,
which wakes a blocked read at once. `sdk_transport` and `async_sdk_transport` give the official
Python SDK (`openai.OpenAI(http_client=...)`) a transport that caps each response body and, for
the sync client, carries the watchdog: an SDK call against a target that sends an endless, huge or
dripping answer ends within the deadline with a transport error, having buffered at most the cap.
"""

from __future__ import annotations

import socket
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any


class Watchdog:
    """The whole-exchange deadline. httpx times out per read, so a target that drips a byte a second
    (even before its status line) never trips it; at the deadline this shuts the exchange's socket
    down, which wakes the blocked read at once.

    The socket is learnt from httpcore's `trace` extension when the exchange opens a connection, or
    from the response's `network_stream` once headers arrive. An exchange still waiting for headers
    on a reused keep-alive connection has no socket of its own to name: then every socket this
    target opened is shut (the pool reconnects; only a hostile target gets that far).
    """

    def __init__(self, timeout_s: float, known: weakref.WeakSet[socket.socket]) -> None:
        self.fired = False
        self.timeout_s = timeout_s
        self._own: socket.socket | None = None
        self._known = known
        self._timer = threading.Timer(timeout_s, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.watch(info.get("return_value"))

    def watch(self, network_stream: Any) -> None:
        sock = network_stream.get_extra_info("socket") if network_stream is not None else None
        if isinstance(sock, socket.socket):
            self._own = sock
            self._known.add(sock)

    def cancel(self) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        self.fired = True
        for sock in [self._own] if self._own is not None else list(self._known):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed: nothing left to wake


def sdk_transport(watchdog: Watchdog, max_body_bytes: int) -> Any:
    """An httpx2 transport for the sync SDK client: bodies capped, sockets under `watchdog`."""
    import httpx2

    class _Capped(httpx2.SyncByteStream):
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __iter__(self) -> Iterator[bytes]:
            seen = 0
            for chunk in self._inner:
                seen += len(chunk)
                if seen > max_body_bytes:
                    raise httpx2.ReadError(_too_large(max_body_bytes))
                yield chunk

        def close(self) -> None:
            self._inner.close()

    class _Transport(httpx2.BaseTransport):
        def __init__(self) -> None:
            self._inner = httpx2.HTTPTransport()

        def handle_request(self, request: Any) -> Any:
            request.extensions = {**request.extensions, "trace": watchdog.trace}
            if watchdog.fired:
                raise httpx2.ReadTimeout(_deadline(watchdog))
            response = self._inner.handle_request(request)
            watchdog.watch(response.extensions.get("network_stream"))
            return httpx2.Response(
                response.status_code,
                headers=response.headers,
                stream=_Capped(response.stream),
                extensions=response.extensions,
            )

        def close(self) -> None:
            self._inner.close()

    return _Transport()


def async_sdk_transport(max_body_bytes: int) -> Any:
    """An httpx2 transport for the async SDK client: bodies capped (the caller's `wait_for` is the deadline)."""
    import httpx2

    class _Capped(httpx2.AsyncByteStream):
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        async def __aiter__(self) -> AsyncIterator[bytes]:
            seen = 0
            async for chunk in self._inner:
                seen += len(chunk)
                if seen > max_body_bytes:
                    raise httpx2.ReadError(_too_large(max_body_bytes))
                yield chunk

        async def aclose(self) -> None:
            await self._inner.aclose()

    class _Transport(httpx2.AsyncBaseTransport):
        def __init__(self) -> None:
            self._inner = httpx2.AsyncHTTPTransport()

        async def handle_async_request(self, request: Any) -> Any:
            response = await self._inner.handle_async_request(request)
            return httpx2.Response(
                response.status_code,
                headers=response.headers,
                stream=_Capped(response.stream),
                extensions=response.extensions,
            )

        async def aclose(self) -> None:
            await self._inner.aclose()

    return _Transport()


def _too_large(limit: int) -> str:
    return f"body exceeded the suite's limit of {limit} bytes"


def _deadline(watchdog: Watchdog) -> str:
    return f"no complete response within {watchdog.timeout_s:g} s (cut by the deadline)"
