"""The reference server survives its users: hostile requests get a 4xx envelope, never a 5xx.

Two kinds: what a JSON body can carry (lone surrogates on every route, numbers JSON or Python cannot
hold, NaN, nesting, every documented limit), sent with httpx; and what the HTTP framing can do
(oversized, dripping, half-sent and malformed heads, short bodies, idle connections), sent as raw
bytes on a socket to a server whose deadlines are short for the test.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

import schemas
from reference_server._http11 import HttpLimits
from reference_server._limits import MAX_COMPLETION_TOKENS, MAX_EMBEDDING_INPUTS, MAX_MESSAGES
from reference_server.app import create_app
from reference_server.engines.scripted import CONTEXT_LENGTH, ScriptedEngine
from reference_server.serve import BackgroundServer

KEY = "sk-hostile-requests-0123456789"
LIMITS = HttpLimits(head_timeout_s=1.0, body_timeout_s=1.0)
SLACK_S = 2.0
CHAT, EMBED = "scripted-chat", "scripted-embed"


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    app = create_app(ScriptedEngine(), api_keys=[KEY])
    with BackgroundServer(app, limits=LIMITS) as background:
        yield background


def _post(server: BackgroundServer, path: str, raw: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    return httpx.post(f"{server.base_url}{path}", content=raw, headers=headers, timeout=30)


def _envelope(response: httpx.Response, status: int = 400) -> dict:
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert schemas.errors("ErrorResponse", body) == [], body
    return body["error"]


SURROGATE = '"\\ud800"'  # as JSON text: a lone surrogate escape, valid JSON, not Unicode
# (path, raw body, the field the 400 must name)
SURROGATES = [
    ("/chat/completions", f'{{"model":"{CHAT}","messages":[{{"role":"user","content":{SURROGATE}}}]}}', "messages[0].content"),
    ("/chat/completions", f'{{"model":{SURROGATE},"messages":[{{"role":"user","content":"hi"}}]}}', "model"),
    ("/chat/completions", f'{{"model":"{CHAT}","messages":[{{"role":"user","content":"hi"}}],"user":{SURROGATE}}}', "user"),
    ("/chat/completions", f'{{"model":"{CHAT}","messages":[{{"role":"user","content":"hi","x\\udfff":1}}]}}', "a key of messages[0]"),
    ("/completions", f'{{"model":"{CHAT}","prompt":{SURROGATE}}}', "prompt"),
    ("/completions", f'{{"model":"{CHAT}","prompt":["ok",{SURROGATE}]}}', "prompt[1]"),
    ("/completions", f'{{"model":"{CHAT}","prompt":"x","stop":[{SURROGATE}]}}', "stop[0]"),
    ("/embeddings", f'{{"model":"{EMBED}","input":["ok",{SURROGATE}]}}', "input[1]"),
    ("/embeddings", f'{{"model":{SURROGATE},"input":"x"}}', "model"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "raw", "field"), SURROGATES, ids=[f"{p}:{f}" for p, _, f in SURROGATES])
def test_lone_surrogates_are_a_400_naming_the_field(
    server: BackgroundServer, path: str, raw: str, field: str
) -> None:
    error = _envelope(_post(server, path, raw.encode()))
    assert error["param"] == field and error["code"] == "invalid_unicode", error


def _chat(**extra: object) -> dict:
    return {"model": CHAT, "messages": [{"role": "user", "content": "hi"}], **extra}


# (name, path, raw body, the param the 400 names or None)
HOSTILE = [
    ("huge-int", "/chat/completions", json.dumps(_chat())[:-1] + ',"max_tokens":' + "9" * 5000 + "}", None),
    ("int-past-int64", "/chat/completions", json.dumps(_chat(seed=2**64)), "seed"),
    ("float-overflow", "/chat/completions", json.dumps(_chat())[:-1] + ',"temperature":1e999}', None),
    ("nan", "/chat/completions", json.dumps(_chat())[:-1] + ',"temperature":NaN}', None),
    ("infinity", "/completions", f'{{"model":"{CHAT}","prompt":"x","top_p":-Infinity}}', None),
    ("deep-nesting", "/chat/completions", '{"model":"x","messages":' + "[" * 100_000 + "]" * 100_000 + "}", None),
    ("deep-object", "/embeddings", '{"model":"x","input":' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "}", None),
    ("bool-as-int", "/chat/completions", json.dumps(_chat(n=True)), "n"),
    ("too-many-messages", "/chat/completions", json.dumps({"model": CHAT, "messages": [{"role": "user", "content": "a"}] * (MAX_MESSAGES + 1)}), "messages"),
    ("n-times-max-tokens", "/chat/completions", json.dumps(_chat(n=128, max_tokens=MAX_COMPLETION_TOKENS // 128 + 1)), "max_tokens"),
    ("past-the-context", "/completions", json.dumps({"model": CHAT, "prompt": " a" * (CONTEXT_LENGTH + 10)}), "prompt"),
    ("too-many-inputs", "/embeddings", json.dumps({"model": EMBED, "input": ["a"] * (MAX_EMBEDDING_INPUTS + 1)}), "input"),
    ("not-utf8", "/chat/completions", b'{"model":"\xff\xfe"}'.decode("latin-1"), None),
    ("not-an-object", "/embeddings", "[1,2,3]", None),
    ("empty", "/completions", "", None),
]  # fmt: skip


@pytest.mark.parametrize(("name", "path", "raw", "param"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bodies_are_4xx(
    server: BackgroundServer, name: str, path: str, raw: str, param: str | None
) -> None:
    error = _envelope(_post(server, path, raw.encode("latin-1") if name == "not-utf8" else raw.encode()))
    if param is not None:
        assert error["param"] == param, error


def test_limits_name_themselves(server: BackgroundServer) -> None:
    raw = json.dumps(_chat(n=128, max_tokens=2000)).encode()
    error = _envelope(_post(server, "/chat/completions", raw))
    assert error["code"] == "too_many_tokens" and str(MAX_COMPLETION_TOKENS) in error["message"]
    raw = json.dumps({"model": CHAT, "prompt": " a" * (CONTEXT_LENGTH + 10)}).encode()
    error = _envelope(_post(server, "/completions", raw))
    assert error["code"] == "context_length_exceeded" and str(CONTEXT_LENGTH) in error["message"]


# -- the framing ---------------------------------------------------------------------------------
def _connect(server: BackgroundServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except OSError:
        pass
    return out


def _status_and_error(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return status, error


def test_oversized_head_is_431(server: BackgroundServer) -> None:
    with _connect(server) as sock:
        try:
            sock.sendall(
                b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (4 * 1024 * 1024) + b"\r\n\r\n"
            )
        except OSError:
            pass  # the server may close before it has read everything
        status, error = _status_and_error(_read_all(sock))
    assert status == 431 and error["code"] == "request_header_fields_too_large"


def test_dripping_head_is_cut_with_408(server: BackgroundServer) -> None:
    started = time.monotonic()
    with _connect(server) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\n")
        sock.settimeout(0.3)
        raw = b""
        while time.monotonic() - started < LIMITS.head_timeout_s + SLACK_S and not raw:
            try:
                sock.sendall(b"X-Drip: 1\r\n")
                raw = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
        sock.settimeout(5)
        raw += _read_all(sock)
    assert time.monotonic() - started < LIMITS.head_timeout_s + SLACK_S
    status, error = _status_and_error(raw)
    assert status == 408 and error["code"] == "request_timeout"


def test_half_sent_heads_are_closed(server: BackgroundServer) -> None:
    socks = [_connect(server) for _ in range(100)]
    try:
        for sock in socks:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        deadline = time.monotonic() + LIMITS.head_timeout_s + SLACK_S
        for sock in socks:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            raw = _read_all(sock)  # ends when the server closes; a timeout leaves it empty
            assert raw.startswith(b"HTTP/1.1 408"), raw[:100]
    finally:
        for sock in socks:
            sock.close()


def test_idle_connection_is_closed(server: BackgroundServer) -> None:
    with _connect(server) as sock:
        started = time.monotonic()
        assert _read_all(sock) == b""  # closed, nothing said: there was no request to answer
    assert time.monotonic() - started < LIMITS.head_timeout_s + SLACK_S


def test_short_body_is_cut_with_408(server: BackgroundServer) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"model\":"
        )  # fmt: skip
        status, error = _status_and_error(_read_all(sock))
    assert status == 408 and error["code"] == "request_timeout"


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\x01\x02 not http\r\n\r\n",
        b"GET /v1/models HTTP/1.1\r\nAccept: */*\r\n\r\n",
        b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n",
        b"GET /v1/models HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n",
        b"GET /v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    ],
    ids=["garbage", "no-host", "bad-chunk", "bad-header-name", "negative-length"],
)
def test_protocol_errors_get_the_envelope(server: BackgroundServer, raw: bytes) -> None:
    with _connect(server) as sock:
        sock.sendall(raw)
        status, error = _status_and_error(_read_all(sock))
    assert status == 400 and error["code"] == "invalid_http_request"


def test_server_still_serves(server: BackgroundServer) -> None:
    """After all of the above, an ordinary request is answered."""
    response = httpx.get(f"{server.base_url}/models", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["openai", "karta", "inferbase", "carrot", "carpathian"])
def test_personas_answer_hostile_bodies_with_4xx(name: str, tmp_path) -> None:
    """Behind a persona's adapter (which reads and may rewrite the body first): still 4xx, never 5xx."""
    from reference_server.gateway import Gateway
    from reference_server.personas import load_persona, seed_key

    persona = load_persona(name)
    gateway = Gateway(tmp_path / "gw.db", persona.gateway_config("adm_hostile_persona_admin"))
    key = persona.gateway.key_prefix + "hostile_key_0123456789"
    seed_key(gateway, persona, key, model=CHAT)
    try:
        with BackgroundServer(persona.build(ScriptedEngine(), gateway), limits=LIMITS) as background:
            route = next(r for r in persona.routes if r.endpoint == "chat")
            url = background.root_url + re.sub(r"\{[^}]+\}", "my-app", route.path)
            bodies = [
                f'{{"model":"{CHAT}","messages":[{{"role":"user","content":{SURROGATE}}}],"stream":true}}',
                '{"model":"x","messages":' + "[" * 100_000 + "]" * 100_000 + "}",
                json.dumps(_chat())[:-1] + ',"temperature":NaN,"stream":true}',
            ]
            for raw in bodies:
                response = httpx.post(
                    url,
                    content=raw.encode(),
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                    timeout=30,
                )
                assert 400 <= response.status_code < 500, (
                    name,
                    raw[:60],
                    response.status_code,
                    response.text[:300],
                )
    finally:
        gateway.close()
