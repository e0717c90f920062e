"""An instant OpenAI-shaped SSE server, for calibrating load clients.

It answers chat, completions, embeddings and models with canned bodies the moment a request is
read, and streams `max_tokens` one-token events (optionally spaced by a fixed delay), so whatever
latency a client measures beyond the server's own time to first byte is the client's overhead.
It is a raw asyncio protocol rather than a framework (starlette/uvicorn) on purpose: a framework
costs tens to hundreds of microseconds per request and per event, which would be charged to the
client under test. Keep-alive HTTP/1.1, chunked streams; nothing else of HTTP is implemented.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._metrics import NS_PER_MS, summarize

MODEL = "instant"
_MAX_HEAD = 64 * 1024
_MAX_BODY = 4 * 1024 * 1024


def _chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _event(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


@dataclass
class ServerStats:
    """Server-side timings: request fully read -> first byte written, in ns (bounded)."""

    ttfb_ns: collections.deque = field(default_factory=lambda: collections.deque(maxlen=100_000))
    requests: int = 0
    events: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "events": self.events,
            "ttfb_ms": summarize(v / NS_PER_MS for v in self.ttfb_ns),
        }


class _Protocol(asyncio.Protocol):
    def __init__(self, server: InstantServer) -> None:
        self.server = server
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self._next()

    def _next(self) -> None:
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            if len(self.buffer) > _MAX_HEAD:
                self._reply_plain(
                    431, b'{"error":{"message":"headers too large","type":"invalid_request_error"}}'
                )
            return
        head = bytes(self.buffer[:head_end]).decode("latin-1")
        lines = head.split("\r\n")
        try:
            method, path, _ = lines[0].split(" ", 2)
        except ValueError:
            self._reply_plain(400, b'{"error":{"message":"bad request line","type":"invalid_request_error"}}')
            return
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip() or 0)
        if length > _MAX_BODY:
            self._reply_plain(413, b'{"error":{"message":"body too large","type":"invalid_request_error"}}')
            return
        if len(self.buffer) < head_end + 4 + length:
            return
        body = bytes(self.buffer[head_end + 4 : head_end + 4 + length])
        del self.buffer[: head_end + 4 + length]
        read_ns = time.perf_counter_ns()
        self.busy = True
        asyncio.get_running_loop().create_task(self._answer(method, path, body, read_ns))

    async def _answer(self, method: str, path: str, body: bytes, read_ns: int) -> None:
        try:
            await self.server.answer(self, method, path, body, read_ns)
        finally:
            self.busy = False
            if self.buffer and self.transport and not self.transport.is_closing():
                self._next()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _reply_plain(self, status: int, body: bytes) -> None:
        self.write(
            b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (status, len(body), body)
        )
        if self.transport is not None:
            self.transport.close()


class InstantServer:
    """Start with `start()` (a background thread with its own event loop); `base_url` ends in /v1."""

    def __init__(self, *, token_delay_ms: float = 0.0, ttft_delay_ms: float = 0.0, port: int = 0) -> None:
        self.token_delay_s = token_delay_ms / 1000.0
        self.ttft_delay_s = ttft_delay_ms / 1000.0
        self.port = port
        self.stats = ServerStats()
        self.base_url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> InstantServer:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._server = self._loop.run_until_complete(
                self._loop.create_server(lambda: _Protocol(self), "127.0.0.1", self.port)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            self.base_url = f"http://127.0.0.1:{self.port}/v1"
            ready.set()
            self._loop.run_forever()
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="instant-sse-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("instant server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def __enter__(self) -> InstantServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answers ---------------------------------------------------------------------------------
    async def answer(self, conn: _Protocol, method: str, path: str, body: bytes, read_ns: int) -> None:
        self.stats.requests += 1
        if method == "GET" and path.rstrip("/").endswith("/health"):  # what guidellm validates first
            return self._json(conn, 200, {"status": "ok"}, read_ns)
        if method == "GET" and path.rstrip("/").endswith("/models"):
            data = {
                "object": "list",
                "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "compat-suite"}],
            }
            return self._json(conn, 200, data, read_ns)
        try:
            req = json.loads(body or b"{}")
            assert isinstance(req, dict)
        except (ValueError, AssertionError):
            err = {"error": {"message": "body is not a JSON object", "type": "invalid_request_error"}}
            return self._json(conn, 400, err, read_ns)
        if method != "POST":
            return self._json(
                conn,
                405,
                {"error": {"message": "method not allowed", "type": "invalid_request_error"}},
                read_ns,
            )
        if path.endswith("/embeddings"):
            inputs = req.get("input", "")
            count = len(inputs) if isinstance(inputs, list) else 1
            data = {
                "object": "list",
                "model": MODEL,
                "data": [{"object": "embedding", "index": i, "embedding": [0.0] * 8} for i in range(count)],
                "usage": {"prompt_tokens": count, "total_tokens": count},
            }
            return self._json(conn, 200, data, read_ns)
        chat = path.endswith("/chat/completions")
        if not chat and not path.endswith("/completions"):
            return self._json(
                conn,
                404,
                {"error": {"message": f"no route {path}", "type": "invalid_request_error"}},
                read_ns,
            )
        n = int(req.get("max_tokens") or req.get("max_completion_tokens") or 16)
        if not req.get("stream"):
            text = " tok" * n
            choice = (
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "length"}
                if chat
                else {"index": 0, "text": text, "finish_reason": "length"}
            )
            data = {
                "id": "cmpl-instant",
                "object": "chat.completion" if chat else "text_completion",
                "created": 0,
                "model": MODEL,
                "choices": [choice],
                "usage": {"prompt_tokens": 1, "completion_tokens": n, "total_tokens": n + 1},
            }
            return self._json(conn, 200, data, read_ns)
        include_usage = bool((req.get("stream_options") or {}).get("include_usage"))
        await self._stream(conn, chat, n, include_usage, read_ns)

    def _json(self, conn: _Protocol, status: int, data: dict[str, Any], read_ns: int) -> None:
        body = json.dumps(data).encode()
        conn.write(
            b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
            % (status, len(body), body)
        )
        self.stats.ttfb_ns.append(time.perf_counter_ns() - read_ns)

    async def _stream(self, conn: _Protocol, chat: bool, n: int, include_usage: bool, read_ns: int) -> None:
        obj = "chat.completion.chunk" if chat else "text_completion"

        def piece(text: str | None, finish: str | None = None) -> bytes:
            choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
            if chat:
                choice["delta"] = {"content": text} if text is not None else {}
            else:
                choice["text"] = text or ""
            return _event(
                {"id": "cmpl-instant", "object": obj, "created": 0, "model": MODEL, "choices": [choice]}
            )

        if self.ttft_delay_s:
            await asyncio.sleep(self.ttft_delay_s)
        head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        first = (
            _event(
                {
                    "id": "cmpl-instant",
                    "object": obj,
                    "created": 0,
                    "model": MODEL,
                    "choices": [
                        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                    ],
                }
            )
            if chat
            else b""
        )
        token = piece(" tok")
        tail = piece(None, "length")
        if include_usage:
            tail += _event(
                {
                    "id": "cmpl-instant",
                    "object": obj,
                    "created": 0,
                    "model": MODEL,
                    "choices": [],
                    "usage": {"prompt_tokens": 1, "completion_tokens": n, "total_tokens": n + 1},
                }
            )
        tail += b"data: [DONE]\n\n"
        if not self.token_delay_s:
            conn.write(head + _chunk(first + token * n + tail) + b"0\r\n\r\n")
            self.stats.ttfb_ns.append(time.perf_counter_ns() - read_ns)
            self.stats.events += n
            return
        conn.write(head + (_chunk(first) if first else b""))
        self.stats.ttfb_ns.append(time.perf_counter_ns() - read_ns)
        for _ in range(n):
            conn.write(_chunk(token))
            self.stats.events += 1
            await asyncio.sleep(self.token_delay_s)
        conn.write(_chunk(tail) + b"0\r\n\r\n")


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m compat_suite.load._instant --port 0`: serve until interrupted."""
    parser = argparse.ArgumentParser(prog="instant-sse-server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token-delay-ms", type=float, default=0.0)
    parser.add_argument("--ttft-delay-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    server = InstantServer(
        token_delay_ms=args.token_delay_ms, ttft_delay_ms=args.ttft_delay_ms, port=args.port
    )
    server.start()
    print(f"instant server ready at {server.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
