"""A hostile HTTP target for tests: every way a server can break a client, one URL prefix each.

Raw asyncio rather than an ASGI app, because the point is bytes no framework would send: a status
line dripped a byte a second, garbage instead of HTTP, a reset mid-body. It listens on 127.0.0.1
on a free port, in a thread of its own; `base_url(mode)` is `http://127.0.0.1:PORT/<mode>/v1`, so a
`Target` pointed there hits the mode on every path. Every loop is bounded in bytes and in time, and
stops when the client goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable

MiB = 1024 * 1024
MAX_SECONDS = 30.0  # no mode runs longer than this, whatever the client does
HUGE_BYTES = 100 * MiB
HEAD_LIMIT = 64 * 1024
BODY_LIMIT = 16 * MiB

Writer = asyncio.StreamWriter
Mode = Callable[[Writer], Awaitable[None]]
_GARBAGE = bytes(range(256)) * 16  # 4 KiB of every byte value


def _head(status: str = "200 OK", content_type: str = "application/json", extra: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n{extra}\r\n".encode("latin-1")


async def _send(writer: Writer, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


async def _garbage_body(writer: Writer) -> None:
    """200, application/json, and a body of arbitrary bytes."""
    body = _GARBAGE
    await _send(writer, _head(extra=f"content-length: {len(body)}\r\nconnection: close\r\n") + body)


async def _not_http(writer: Writer) -> None:
    """Garbage bytes where the status line should be."""
    await _send(writer, _GARBAGE)


async def _endless(writer: Writer) -> None:
    """A chunked JSON body that never ends (bounded by MAX_SECONDS here)."""
    await _send(writer, _head(extra="transfer-encoding: chunked\r\n") + b"5\r\n[1.0,\r\n")
    piece = b"1.0," * 4096
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    deadline = time.monotonic() + MAX_SECONDS
    while time.monotonic() < deadline:
        await _send(writer, chunk)


async def _huge(writer: Writer) -> None:
    """A declared 100 MB body, sent as fast as the client reads it."""
    await _send(writer, _head(extra=f"content-length: {HUGE_BYTES}\r\n"))
    piece = b" " * MiB
    deadline = time.monotonic() + MAX_SECONDS
    for _ in range(HUGE_BYTES // MiB):
        if time.monotonic() > deadline:
            break
        await _send(writer, piece)


async def _drip(data: bytes, writer: Writer, interval_s: float = 1.0) -> None:
    deadline = time.monotonic() + MAX_SECONDS
    for i in range(len(data)):
        if time.monotonic() > deadline:
            break
        await _send(writer, data[i : i + 1])
        await asyncio.sleep(interval_s)


async def _drip_body(writer: Writer) -> None:
    """Headers at once, then the body one byte a second."""
    body = json.dumps({"id": "x", "object": "chat.completion", "choices": []}).encode() * 10
    await _send(writer, _head(extra=f"content-length: {len(body)}\r\n"))
    await _drip(body, writer)


async def _drip_head(writer: Writer) -> None:
    """The status line and headers themselves, one byte a second: no response ever starts."""
    await _drip(_head(extra="content-length: 2\r\n") + b"{}", writer)


async def _invalid_utf8(writer: Writer) -> None:
    """200, application/json, a body that is not UTF-8."""
    body = b'{"id": "chatcmpl-\xff\xfe\xc3\x28", "object": "chat.completion", "choices": []}'
    await _send(writer, _head(extra=f"content-length: {len(body)}\r\nconnection: close\r\n") + body)


async def _reset(writer: Writer) -> None:
    """Headers and half a body, then a TCP reset."""
    await _send(writer, _head(extra="content-length: 4096\r\n") + b'{"id": "chatcmpl-1", "choi')
    sock = writer.get_extra_info("socket")
    if sock is not None:  # linger 0: close() sends RST instead of FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _headers_only(writer: Writer) -> None:
    """Headers that promise a body, then a clean close."""
    await _send(writer, _head(extra="content-length: 1000\r\n"))
    writer.close()


async def _sse_endless(writer: Writer) -> None:
    """A valid-looking chat stream that never finishes and never sends [DONE]."""
    await _send(writer, _head(content_type="text/event-stream", extra="transfer-encoding: chunked\r\n"))
    deadline = time.monotonic() + MAX_SECONDS
    n = 0
    while time.monotonic() < deadline:
        chunk = {
            "id": "chatcmpl-endless",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": f" {n}"}, "finish_reason": None}],
        }
        event = b"data: " + json.dumps(chunk).encode() + b"\n\n"
        await _send(writer, f"{len(event):x}\r\n".encode() + event + b"\r\n")
        n += 1
        await asyncio.sleep(0.05)


async def _ok(writer: Writer) -> None:
    """A well-formed keep-alive answer (the first half of `keepalive-drip`)."""
    await _send(writer, _head(extra="content-length: 2\r\n") + b"{}")


MODES: dict[str, Mode] = {
    "garbage": _garbage_body,
    "not-http": _not_http,
    "endless": _endless,
    "huge": _huge,
    "drip-body": _drip_body,
    "drip-head": _drip_head,
    "invalid-utf8": _invalid_utf8,
    "reset": _reset,
    "headers-only": _headers_only,
    "sse-endless": _sse_endless,
    # a good answer on a keep-alive connection, then the next request on it gets a dripped head
    "keepalive-drip": _drip_head,
}


class HostileServer:
    """`HostileServer().start()`; `base_url(mode)`; `stop()` (also a context manager)."""

    def __init__(self) -> None:
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def base_url(self, mode: str) -> str:
        if mode not in MODES:
            raise ValueError(f"unknown hostile mode {mode!r}")
        return f"http://127.0.0.1:{self.port}/{mode}/v1"

    def start(self) -> HostileServer:
        self._thread = threading.Thread(target=self._run, name="hostile-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile server did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._shutdown)
        self._thread.join(10)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- inside the server's thread --------------------------------------------------------------
    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, limit=HEAD_LIMIT)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def _shutdown(self) -> None:
        assert self._server is not None and self._loop is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()

        async def drain() -> None:
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._loop.stop()  # type: ignore[union-attr]

        self._loop.create_task(drain())

    async def _handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            mode = await self._read_request(reader)
            if mode == "keepalive-drip":  # answer once, keep the connection, then turn hostile
                await _ok(writer)
                await self._read_request(reader)
            await asyncio.wait_for(MODES.get(mode, _not_http)(writer), MAX_SECONDS + 5)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass  # the client went away, or sent what we do not read: either way, done
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> str:
        """The request's mode (first path segment); the head and a bounded body are read and dropped."""
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length" and value.strip().isdigit():
                length = min(int(value.strip()), BODY_LIMIT)
        if length:
            await asyncio.wait_for(reader.readexactly(length), 10)
        return path.strip("/").split("/", 1)[0]
