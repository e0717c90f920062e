"""A lean HTTP/1.1 client for the load hot path, timed by the kernel where it can be.

Why not httpx: with gevent, a timestamp taken when a read returns includes the time the greenlet
waited for the CPU behind the other users' parsing, locust's hooks and the request's own
bookkeeping; under load that, not the server, was most of the TTFT error this client reported.
Here each socket asks the kernel to stamp arriving data (`SO_TIMESTAMPNS`: the time the last
segment a read returns reached the socket), so a byte's arrival time no longer depends on when
Python got round to reading it. The send time is taken just before the request's bytes go to
the kernel, after the body is encoded and a connection is at hand. Where the kernel gives no
stamp, the clock is read when `recvmsg` returns.

What it speaks: HTTP/1.1 over TCP or TLS (the TLS record layer runs in a `MemoryBIO`, so the raw
socket still carries the kernel's stamps), keep-alive, bodies by `Content-Length`, chunked or
until close; no proxies, redirects, compression or HTTP/2. A reused connection that turns out to
be closed by the server is replaced once, before any response byte arrived.
"""

from __future__ import annotations

import socket
import ssl
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_SCM_TIMESTAMPNS = getattr(socket, "SCM_TIMESTAMPNS", _SO_TIMESTAMPNS)
_CMSG_SPACE = socket.CMSG_SPACE(16) if hasattr(socket, "CMSG_SPACE") else 0
_TS = struct.Struct("qq")
READ_SIZE = 256 * 1024
MAX_HEAD = 64 * 1024


class HTTPError(Exception):
    """The exchange failed below HTTP semantics: `kind` is "timeout", "connect", "reset" or "protocol"."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


class Connection:
    """One socket; `recv` returns data with the `perf_counter_ns` time the kernel received it."""

    def __init__(self, origin: Origin, timeout_s: float, tls: ssl.SSLContext | None) -> None:
        self.kernel_stamps = False
        try:
            self.sock = socket.create_connection((origin.host, origin.port), timeout=timeout_s)
        except TimeoutError as exc:
            raise HTTPError("timeout", f"connecting to {origin.host}:{origin.port}") from exc
        except OSError as exc:
            raise HTTPError("connect", f"{origin.host}:{origin.port}: {exc}") from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            self.kernel_stamps = _CMSG_SPACE > 0
        except OSError:
            pass
        self._tls: ssl.SSLObject | None = None
        if tls is not None:
            self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            self._tls = tls.wrap_bio(self._incoming, self._outgoing, server_hostname=origin.host)
            self._handshake()

    # -- raw socket --------------------------------------------------------------------------
    def _raw_recv(self) -> tuple[bytes, int]:
        try:
            if self.kernel_stamps:
                data, ancillary, _flags, _addr = self.sock.recvmsg(READ_SIZE, _CMSG_SPACE)
            else:
                data, ancillary = self.sock.recv(READ_SIZE), []
        except TimeoutError as exc:
            raise HTTPError("timeout", "no data before the deadline") from exc
        except OSError as exc:
            raise HTTPError("reset", str(exc)) from exc
        perf = time.perf_counter_ns()
        for level, kind, raw in ancillary:
            if level == socket.SOL_SOCKET and kind == _SCM_TIMESTAMPNS and len(raw) >= 16:
                sec, nsec = _TS.unpack_from(raw)
                # Map the kernel's wall-clock stamp onto perf_counter: both clocks read now, so
                # no drift between them can build up over a run.
                behind = time.time_ns() - (sec * 1_000_000_000 + nsec)
                return data, perf - min(max(behind, 0), 10_000_000_000)
        return data, perf

    def _raw_send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except TimeoutError as exc:
            raise HTTPError("timeout", "sending the request") from exc
        except OSError as exc:
            raise HTTPError("reset", str(exc)) from exc

    # -- TLS over memory BIOs ----------------------------------------------------------------
    def _handshake(self) -> None:
        assert self._tls is not None
        while True:
            try:
                self._tls.do_handshake()
                self._flush_tls()
                return
            except ssl.SSLWantReadError:
                self._flush_tls()
                data, _ = self._raw_recv()
                if not data:
                    raise HTTPError("reset", "closed during the TLS handshake") from None
                self._incoming.write(data)
            except ssl.SSLError as exc:
                raise HTTPError("connect", f"TLS: {exc}") from exc

    def _flush_tls(self) -> None:
        pending = self._outgoing.read()
        if pending:
            self._raw_send(pending)

    # -- the connection's API ----------------------------------------------------------------
    def settimeout(self, seconds: float) -> None:
        self.sock.settimeout(max(0.001, seconds))

    def send(self, data: bytes) -> int:
        """Send all of `data`; returns the perf_counter_ns time it was handed to the kernel."""
        sent_ns = time.perf_counter_ns()
        if self._tls is None:
            self._raw_send(data)
        else:
            self._tls.write(data)
            self._flush_tls()
        return sent_ns

    def recv(self) -> tuple[bytes, int]:
        """The next bytes (b"" at end of stream) and when they arrived."""
        if self._tls is None:
            return self._raw_recv()
        while True:
            try:
                return self._tls.read(READ_SIZE), self._last_tls_ns
            except ssl.SSLWantReadError:
                data, self._last_tls_ns = self._raw_recv()
                if not data:
                    return b"", self._last_tls_ns
                self._incoming.write(data)
            except ssl.SSLZeroReturnError:
                return b"", time.perf_counter_ns()
            except ssl.SSLError as exc:
                raise HTTPError("reset", f"TLS: {exc}") from exc

    _last_tls_ns = 0

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


@dataclass
class Response:
    """Status, headers and a body read as it arrives; `iter_body` yields (bytes, arrival ns)."""

    status: int
    headers: dict[str, str]
    first_byte_ns: int
    conn: Connection
    buffer: bytearray
    rx_ns: int
    head_only: bool = False
    reusable: bool = field(default=False, init=False)

    def iter_body(self) -> Iterator[tuple[bytes, int]]:
        if self.head_only or self.status in (204, 304):
            self.reusable = True
            return
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            yield from self._chunked()
        elif "content-length" in self.headers:
            yield from self._sized(int(self.headers["content-length"]))
        else:
            yield from self._until_close()
            return
        self.reusable = "close" not in self.headers.get("connection", "").lower()

    def _fill(self) -> None:
        data, self.rx_ns = self.conn.recv()
        if not data:
            raise HTTPError("reset", "the connection closed mid-body")
        self.buffer += data

    def _sized(self, length: int) -> Iterator[tuple[bytes, int]]:
        left = length
        while left:
            if not self.buffer:
                self._fill()
            piece = bytes(self.buffer[:left])
            del self.buffer[: len(piece)]
            left -= len(piece)
            yield piece, self.rx_ns

    def _until_close(self) -> Iterator[tuple[bytes, int]]:
        if self.buffer:
            yield bytes(self.buffer), self.rx_ns
            self.buffer.clear()
        while True:
            data, self.rx_ns = self.conn.recv()
            if not data:
                return
            yield data, self.rx_ns

    def _chunked(self) -> Iterator[tuple[bytes, int]]:
        """Decode chunks; everything one read makes decodable is yielded as one piece."""
        buf, out = self.buffer, bytearray()
        pos, need, state = 0, 0, "size"  # state: size | data | crlf | trailers
        while True:
            while True:
                if state == "data":
                    if pos == len(buf):
                        break
                    take = min(need, len(buf) - pos)
                    out += buf[pos : pos + take]
                    pos, need = pos + take, need - take
                    state = "data" if need else "crlf"
                elif state == "crlf":
                    if len(buf) - pos < 2:
                        break
                    if buf[pos : pos + 2] != b"\r\n":
                        raise HTTPError("protocol", "chunk data not followed by CRLF")
                    pos, state = pos + 2, "size"
                else:
                    end = buf.find(b"\r\n", pos)
                    if end < 0:
                        if len(buf) - pos > MAX_HEAD:
                            raise HTTPError("protocol", "chunk size or trailer line over 64 KiB")
                        break
                    line, pos = bytes(buf[pos:end]), end + 2
                    if state == "trailers":
                        if not line:  # the blank line that ends the body
                            del buf[:pos]
                            if out:
                                yield bytes(out), self.rx_ns
                            return
                        continue
                    try:
                        need = int(line.split(b";", 1)[0].strip(), 16)
                    except ValueError:
                        raise HTTPError("protocol", f"bad chunk size line {line[:40]!r}") from None
                    state = "data" if need else "trailers"
            if out:
                yield bytes(out), self.rx_ns
                out.clear()
            del buf[:pos]
            pos = 0
            self._fill()


def read_head(conn: Connection, head_only: bool = False) -> Response:
    """Read the status line and headers (skipping 1xx answers)."""
    buf = bytearray()
    first_ns: int | None = None
    rx_ns = 0
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                raise HTTPError("protocol", "response head over 64 KiB")
            data, rx_ns = conn.recv()
            if not data:
                raise HTTPError(
                    "reset", "the connection closed before a response" if not buf else "closed mid-head"
                )
            first_ns = first_ns if first_ns is not None else rx_ns
            buf += data
            continue
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
        del buf[: end + 4]
        try:
            version, code, *_ = lines[0].split(" ", 2)
            status = int(code)
        except ValueError:
            raise HTTPError("protocol", f"bad status line {lines[0][:80]!r}") from None
        if not version.startswith("HTTP/1."):
            raise HTTPError("protocol", f"bad status line {lines[0][:80]!r}")
        if 100 <= status < 200 and status != 101:
            continue  # an interim answer: the real one follows
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                key = name.strip().lower()
                headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        if version == "HTTP/1.0" and "keep-alive" not in headers.get("connection", "").lower():
            headers["connection"] = "close"
        assert first_ns is not None
        return Response(status, headers, first_ns, conn, buf, rx_ns, head_only)


class Pool:
    """Keep-alive connections to one origin, reused last-in first-out."""

    def __init__(self, url: str, *, timeout_s: float, verify: bool = True) -> None:
        self.origin = Origin.parse(url)
        self.timeout_s = timeout_s
        self.tls: ssl.SSLContext | None = None
        if self.origin.scheme == "https":
            self.tls = ssl.create_default_context()
            if not verify:
                self.tls.check_hostname = False
                self.tls.verify_mode = ssl.CERT_NONE
        self._idle: list[Connection] = []

    def request_head(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
        """The request line and headers, ready to send before `body`."""
        lines = [f"{method} {self.origin.base_path}{path} HTTP/1.1", f"host: {self.origin.host_header}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"content-length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send(self, payload: bytes, deadline: float) -> tuple[Response, int]:
        """Send a prepared request; the response (head read) and when the request was sent."""
        for attempt in (0, 1):
            reused = bool(self._idle)
            conn = self._idle.pop() if reused else self._connect(deadline)
            try:
                conn.settimeout(deadline - time.monotonic())
                sent_ns = conn.send(payload)
                return read_head(conn), sent_ns
            except HTTPError as exc:
                conn.close()
                # A kept-alive connection the server has since closed: one fresh try.
                if not (reused and attempt == 0 and exc.kind == "reset"):
                    raise
        raise AssertionError("unreachable")

    def _connect(self, deadline: float) -> Connection:
        return Connection(self.origin, max(0.001, deadline - time.monotonic()), self.tls)

    def release(self, response: Response) -> None:
        """Return the connection for reuse if its response ended cleanly, else close it."""
        if response.reusable and not response.buffer:
            self._idle.append(response.conn)
        else:
            response.conn.close()

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()
