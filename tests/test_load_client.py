"""The load client without locust: its HTTP/1.1 reader, kernel arrival stamps, what it captures for
the judge, the judge itself, and the datasets it sends. Servers here are raw sockets on loopback,
so each test controls exactly which bytes arrive when."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from compat_suite.load._client import Captured, LLMClient
from compat_suite.load._http import HTTPError, Pool
from compat_suite.load._judge import Spool, exchange_of, judge
from compat_suite.load._metrics import RequestTiming, sample_from_timing
from compat_suite.load._prompts import Dialogue, conversation_cycle, load_conversations
from schemas import load_profile

Reply = Callable[[socket.socket, bytes], bool]  # writes an answer; True keeps the connection open


class RawServer:
    """Answers each request on a connection with the next reply function (loopback, bounded)."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[bytes] = []
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(10)
        while self.replies:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(10)
                while self.replies:
                    request = _read_request(conn)
                    if request is None:
                        break
                    self.requests.append(request)
                    if not self.replies.pop(0)(conn, request):
                        break

    def close(self) -> None:
        self.sock.close()
        self.thread.join(5)


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    while len(body) < length:
        body += conn.recv(65536)
    return body


def _send_parts(*parts: bytes, delay_s: float = 0.0, keep: bool = True) -> Reply:
    def reply(conn: socket.socket, _request: bytes) -> bool:
        for part in parts:
            conn.sendall(part)
            time.sleep(delay_s)
        return keep

    return reply


@pytest.fixture
def serve() -> Iterator[Callable[[list[Reply]], RawServer]]:
    servers: list[RawServer] = []

    def start(replies: list[Reply]) -> RawServer:
        servers.append(RawServer(replies))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _body(pool: Pool, deadline: float) -> tuple[int, dict[str, str], bytes]:
    head = pool.request_head("POST", "/x", {"content-type": "application/json"}, b"{}")
    response, _sent = pool.send(head + b"{}", deadline)
    body = b"".join(piece for piece, _ in response.iter_body())
    pool.release(response)
    return response.status, response.headers, body


def test_chunked_bodies_split_anywhere_decode_whole_and_the_connection_is_reused(serve) -> None:
    head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    chunked = b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\ntrailer: x\r\n\r\n"
    server = serve(
        [
            _send_parts(head + chunked),
            # the same body cut at every awkward place: mid size line, mid data, mid CRLF, mid trailer
            _send_parts(head, b"5;ex", b"t=1\r\nhel", b"lo\r", b"\n1\r\n \r\n5\r\nworld\r\n0\r\ntrai", b"ler: x\r\n\r\n", delay_s=0.01),
            _send_parts(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 3\r\n\r\nabc"),
        ]
    )  # fmt: skip
    pool = Pool(server.url, timeout_s=5)
    deadline = time.monotonic() + 5
    assert _body(pool, deadline) == (200, {"transfer-encoding": "chunked"}, b"hello world")
    assert _body(pool, deadline)[2] == b"hello world"
    status, _headers, body = _body(pool, deadline)
    assert (status, body) == (201, b"abc")  # the interim 100 is skipped
    assert server.connections == 1 and server.requests == [b"{}"] * 3
    pool.close()


def test_a_kept_alive_connection_the_server_closed_is_replaced_once(serve) -> None:
    ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
    server = serve([_send_parts(ok, keep=False), _send_parts(ok)])
    pool = Pool(server.url, timeout_s=5)
    deadline = time.monotonic() + 5
    assert _body(pool, deadline)[2] == b"ok"
    time.sleep(0.05)  # the server has closed the connection the pool keeps
    assert _body(pool, deadline)[2] == b"ok"
    assert server.connections == 2
    pool.close()


def test_a_body_cut_mid_stream_and_a_silent_server_are_errors_not_answers(serve) -> None:
    server = serve(
        [_send_parts(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel", keep=False)]
    )
    pool = Pool(server.url, timeout_s=5)
    with pytest.raises(HTTPError) as cut:
        _body(pool, time.monotonic() + 5)
    assert cut.value.kind == "reset"
    silent = serve([lambda conn, req: (time.sleep(1.0), False)[1]])
    with pytest.raises(HTTPError) as waited:
        _body(Pool(silent.url, timeout_s=0.3), time.monotonic() + 0.3)
    assert waited.value.kind == "timeout"


@pytest.mark.skipif(sys.platform != "linux", reason="SO_TIMESTAMPNS is Linux's")
def test_arrival_is_the_kernels_stamp_not_when_python_got_round_to_reading(serve) -> None:
    """Bytes that waited in the socket while the client was busy keep their arrival time."""
    server = serve([_send_parts(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")])
    pool = Pool(server.url, timeout_s=5)
    head = pool.request_head("POST", "/x", {}, b"{}")
    conn = pool._connect(time.monotonic() + 5)
    assert conn.kernel_stamps
    conn.settimeout(5)
    sent = conn.send(head + b"{}")
    time.sleep(0.2)  # busy: the answer arrives meanwhile
    _data, arrived = conn.recv()
    read_at = time.perf_counter_ns()
    assert sent < arrived < read_at - 150_000_000, (sent, arrived, read_at)
    conn.close()


def _event(obj: dict) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _chunk(obj: dict, **fields) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", **obj, **fields}


def _stream_without_done() -> bytes:
    """Three content events, the second carrying three tokens (per-chunk usage), no [DONE]."""
    events = [
        _chunk({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}),
        _chunk({"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": None}]}, usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}),
        _chunk({"choices": [{"index": 0, "delta": {"content": "b c d"}, "finish_reason": None}]}, usage={"prompt_tokens": 1, "completion_tokens": 4, "total_tokens": 5}),
        _chunk({"choices": [{"index": 0, "delta": {"content": "e"}, "finish_reason": "stop"}]}, usage={"prompt_tokens": 1, "completion_tokens": 5, "total_tokens": 6}),
    ]  # fmt: skip
    body = b"".join(_event(e) for e in events)
    return b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )


def test_a_stream_without_done_keeps_its_timings_and_the_judge_finds_it(serve) -> None:
    server = serve([_send_parts(_stream_without_done())])
    recorded: list[tuple[RequestTiming, Captured | None]] = []
    client = LLMClient(server.url, record=lambda t, c: recorded.append((t, c)), model="m", max_tokens=8)
    timing = client.send("chat-stream", "hi")
    client.close()
    assert timing.error is None and not timing.done  # measured, not failed
    sample = sample_from_timing(timing)
    assert sample.ok and sample.ttft_ms is not None and sample.output_tokens == 5
    assert len(sample.itl_ms) == 4  # per token: 1 + 3 + 1 tokens in three events
    assert "".join(timing.text) == "ab c de"

    _, captured = recorded[0]
    assert captured is not None and captured.status == 200 and captured.marks
    spool = Spool()
    spool.offer(1, captured)
    verdicts = judge(spool, load_profile("openai"), server.url)
    failed = {cid for cid, entry in verdicts.checks.items() if entry["verdicts"].get("fail")}
    assert "stream.done-terminator" in failed
    assert verdicts.failed_must[1] and "stream.done-terminator" in verdicts.failed_must[1]
    assert verdicts.checks["stream.role.first"]["verdicts"] == {"pass": 1}
    # a stream with no error event has nothing for stream.error.event to judge: counted, not failed
    assert verdicts.checks["stream.error.event"]["verdicts"] == {"not-applicable": 1}


def test_judged_events_carry_the_arrival_of_the_piece_that_completed_them() -> None:
    captured = Captured("chat-stream", "/chat/completions", b'{"stream":true}', status=200)
    first = _event(_chunk({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "x"}}]}))
    captured.add(first[:10], 100)
    captured.add(first[10:] + b"data: [DONE]\n\n", 200)
    exchange = exchange_of(captured, "http://h/v1")
    assert [e.received_ns for e in exchange.events] == [200, 200]  # type: ignore[attr-defined]


def test_the_spool_keeps_a_uniform_sample_within_its_byte_budget() -> None:
    spool = Spool(max_bytes=10 * 120, seed=1)
    for seq in range(1000):
        captured = Captured("chat", "/chat/completions", b"x" * 20, status=200)
        captured.add(b"y" * 100, 1)
        spool.offer(seq, captured)
    assert spool.offered == 1000 and len(spool.items) == 10 and spool.bytes <= spool.max_bytes
    assert max(seq for seq, _ in spool.items) > 100  # later answers were sampled too


def test_datasets_prompt_lines_sharegpt_and_conversations_that_grow_with_the_answers(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "one"}\n{"text": "two"}\n\n{"prompt": "three"}\n')
    assert [c.turns for c in load_conversations(prompts)] == [("one",), ("two",), ("three",)]
    assert [c.turns for c in load_conversations(prompts, "2")] == [("one", "two"), ("three",)]

    sharegpt = tmp_path / "sharegpt.json"
    sharegpt.write_text(
        json.dumps(
            [
                {"id": "a", "conversations": [{"from": "system", "value": "be brief"}, {"from": "human", "value": "q1"},
                                              {"from": "gpt", "value": "a1"}, {"from": "human", "value": "q2"}]},
                {"id": "b", "conversations": [{"from": "gpt", "value": "no user turn"}]},
            ]
        )
    )  # fmt: skip
    assert [c.turns for c in load_conversations(sharegpt, "first")] == [("q1",)]
    (conv,) = load_conversations(sharegpt, "all")
    assert conv.turns == ("q1", "q2") and conv.system == "be brief"

    dialogue = Dialogue(conversation_cycle([conv]))
    assert dialogue.next_messages() == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "q1"},
    ]
    dialogue.answered("the target's own answer")
    second = dialogue.next_messages()
    assert second[-2:] == [
        {"role": "assistant", "content": "the target's own answer"},
        {"role": "user", "content": "q2"},
    ]
    dialogue.answered("done")
    assert len(dialogue.next_messages()) == 2  # a new conversation starts afresh

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"nothing": 1}\n')
    with pytest.raises(ValueError, match="no prompt"):
        load_conversations(bad)


def test_https_targets_are_read_through_tls_with_the_kernels_stamps(tmp_path: Path) -> None:
    """TLS runs over memory BIOs, so the raw socket (and its arrival stamps) stays the client's."""
    import shutil
    import ssl
    import subprocess

    openssl = shutil.which("openssl")
    assert openssl, "the openssl command is needed to make the test's certificate"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        raw, _ = listener.accept()
        with server_ctx.wrap_socket(raw, server_side=True) as conn:
            for _ in range(2):  # two requests on one kept-alive connection
                _read_request(conn)  # type: ignore[arg-type]
                conn.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                time.sleep(0.05)
                conn.sendall(b"4\r\nsafe\r\n0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    pool = Pool(f"https://127.0.0.1:{port}/v1", timeout_s=5)
    assert pool.tls is not None and pool.tls.verify_mode == ssl.CERT_REQUIRED
    pool.tls.load_verify_locations(cert)  # trust the test's own certificate
    deadline = time.monotonic() + 5
    for _ in range(2):
        head = pool.request_head("POST", "/x", {}, b"{}")
        response, sent = pool.send(head + b"{}", deadline)
        pieces = list(response.iter_body())
        pool.release(response)
        assert b"".join(p for p, _ in pieces) == b"safe"
        assert sent < response.first_byte_ns < pieces[-1][1]  # the body came 50 ms after the head
    pool.close()
    thread.join(5)
    listener.close()


def test_the_client_never_shows_its_key_or_header_values() -> None:
    client = LLMClient(
        "http://h/v1", record=lambda t, c: None, api_key="sk-hidden", headers={"x-t": "tok-hidden"}
    )
    assert "hidden" not in repr(client)


def test_an_unreadable_dataset_is_a_usage_error_before_anything_starts(tmp_path: Path) -> None:
    import subprocess

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"x": 1}\n')
    cmd = [sys.executable, "-m", "compat_suite", "load", "--engine", "scripted", "--users", "1"]
    cmd += ["--duration", "1", "--dataset", str(bad), "--report-dir", str(tmp_path / "run")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "row 1: no prompt" in done.stderr
    assert not (tmp_path / "run" / "load.json").exists()
