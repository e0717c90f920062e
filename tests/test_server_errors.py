"""Every error the server gives is OpenAI's envelope, with the status and the SDK exception it maps to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import openai
import pytest
from openai import OpenAI

import schemas
from reference_server.engines.base import GenerationRequest, TokenDelta
from reference_server.engines.scripted import ScriptedEngine

if TYPE_CHECKING:
    from conftest import RunningServer

CHAT = "scripted-chat"
HELLO = [{"role": "user", "content": "hi"}]


def assert_envelope(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert schemas.errors("ErrorResponse", body) == []
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


def test_missing_and_wrong_keys_are_401(scripted_server: RunningServer) -> None:
    for key in ("sk-wrong-key-000000", scripted_server.api_key + "x"):
        client = OpenAI(base_url=scripted_server.base_url, api_key=key, max_retries=0)
        with pytest.raises(openai.AuthenticationError) as caught:
            client.models.list()
        assert caught.value.status_code == 401 and caught.value.body["code"] == "invalid_api_key"
        assert key not in caught.value.response.text  # the key is never echoed
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
        response = httpx.post(f"{scripted_server.base_url}/chat/completions", json={}, headers=headers)
        error = assert_envelope(response, 401, "invalid_api_key")
        assert error["type"] == "authentication_error"


def test_unknown_path_is_404_unknown_url(scripted_server: RunningServer) -> None:
    for path in ("/v1/nothing", "/v2/chat/completions", "/"):
        response = httpx.get(scripted_server.root_url + path, headers=scripted_server.auth_headers)
        assert_envelope(response, 404, "unknown_url")
    client = OpenAI(base_url=scripted_server.base_url, api_key=scripted_server.api_key, max_retries=0)
    with pytest.raises(openai.NotFoundError):
        client.get("/nothing", cast_to=object)


def test_wrong_method_is_405_with_allow(scripted_server: RunningServer) -> None:
    response = httpx.get(f"{scripted_server.base_url}/chat/completions", headers=scripted_server.auth_headers)
    assert_envelope(response, 405, "method_not_allowed")
    assert "POST" in response.headers["allow"]
    response = httpx.delete(f"{scripted_server.base_url}/models", headers=scripted_server.auth_headers)
    assert_envelope(response, 405)
    assert "GET" in response.headers["allow"]


def test_non_json_content_type_is_415(scripted_server: RunningServer) -> None:
    response = httpx.post(
        f"{scripted_server.base_url}/chat/completions",
        content=b"model=x",
        headers={**scripted_server.auth_headers, "content-type": "application/x-www-form-urlencoded"},
    )
    assert_envelope(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("raw", [b"{", b"", b"\xff\xfe", b"[1, 2]", b'"text"', b'{"a": NaN}', b"[" * 100_000])
def test_malformed_json_is_400(scripted_server: RunningServer, raw: bytes) -> None:
    response = httpx.post(
        f"{scripted_server.base_url}/chat/completions",
        content=raw,
        headers={**scripted_server.auth_headers, "content-type": "application/json"},
    )
    assert_envelope(response, 400, "invalid_json")


def test_oversized_bodies_are_413_by_length_and_by_count(start_server) -> None:
    server = start_server(max_body_bytes=2048)
    big = {"model": CHAT, "messages": [{"role": "user", "content": "x" * 4096}]}
    response = httpx.post(f"{server.base_url}/chat/completions", json=big, headers=server.auth_headers)
    assert_envelope(response, 413, "request_too_large")

    def chunks():  # no Content-Length: the server must count what arrives
        yield b'{"model": "scripted-chat", "messages": [{"role": "user", "content": "'
        for _ in range(8):
            yield b"y" * 512
        yield b'"}]}'

    response = httpx.post(
        f"{server.base_url}/chat/completions",
        content=chunks(),
        headers={**server.auth_headers, "content-type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_envelope(response, 413, "request_too_large")
    client = OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model=CHAT, messages=big["messages"])
    assert caught.value.status_code == 413
    small = client.chat.completions.create(model=CHAT, messages=HELLO, max_tokens=2)
    assert small.choices  # the limit is a limit, not a refusal of everything


def test_validation_errors_name_the_parameter(scripted_server: RunningServer) -> None:
    client = OpenAI(base_url=scripted_server.base_url, api_key=scripted_server.api_key, max_retries=0)
    cases = [
        ({"messages": HELLO}, "model"),
        ({"model": CHAT}, "messages"),
        ({"model": CHAT, "messages": HELLO, "temperature": "hot"}, "temperature"),
        ({"model": CHAT, "messages": [{"role": "user"}]}, "messages[0].content"),
        ({"model": CHAT, "messages": HELLO, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ]
    for body, param in cases:
        with pytest.raises(openai.BadRequestError) as caught:
            client.post("/chat/completions", body=body, cast_to=object)
        assert caught.value.body["param"] == param, caught.value.body
        assert caught.value.body["type"] == "invalid_request_error"


def test_unknown_token_ids_are_400_not_500(scripted_server: RunningServer) -> None:
    response = httpx.post(
        f"{scripted_server.base_url}/completions",
        json={"model": CHAT, "prompt": [10**9]},
        headers=scripted_server.auth_headers,
    )
    assert assert_envelope(response, 400)["param"] == "prompt"


class FailingEngine(ScriptedEngine):
    """Fails inside generation: at once, or after `after` tokens."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TokenDelta]:
        produced = 0
        async for delta in super().generate(request):
            if produced >= self.after:
                raise RuntimeError("secret internal detail /etc/passwd")
            produced += 1
            yield delta


def test_internal_error_is_500_without_details(start_server) -> None:
    server = start_server(FailingEngine(after=0))
    client = OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model=CHAT, messages=HELLO, max_tokens=5)
    assert caught.value.body["code"] == "server_error" and caught.value.body["type"] == "server_error"
    assert "passwd" not in caught.value.response.text and "Traceback" not in caught.value.response.text


def test_error_after_the_stream_started_is_an_error_event_without_done(start_server, sse_data) -> None:
    server = start_server(FailingEngine(after=2))
    response = httpx.post(
        f"{server.base_url}/chat/completions",
        json={"model": CHAT, "messages": HELLO, "max_tokens": 30, "stream": True, "seed": 1},
        headers=server.auth_headers,
    )
    assert response.status_code == 200
    events = sse_data(response.content)
    assert "[DONE]" not in events
    last = httpx.Response(200, content=events[-1]).json()
    assert last["error"]["type"] == "server_error" and "passwd" not in events[-1]
    client = OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
    with pytest.raises(openai.APIError):
        list(client.chat.completions.create(model=CHAT, messages=HELLO, max_tokens=30, stream=True, seed=1))
