"""Streaming under pressure (disconnects, 50 concurrent streams), the fault hooks, and the gateway seam."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import openai
import pytest
from _check_cases import STREAM_WITH_USAGE
from openai import AsyncOpenAI, OpenAI

from reference_server.engines.base import GenerationRequest, TokenDelta
from reference_server.engines.scripted import ScriptedEngine
from reference_server.errors import APIError
from reference_server.faults import Fault, FaultSet

CHAT = "scripted-chat"
HELLO = [{"role": "user", "content": "hi"}]


class RecordingEngine(ScriptedEngine):
    """A slow scripted engine that records how each generation ended, from the server's thread."""

    def __init__(self, token_delay_s: float) -> None:
        super().__init__(token_delay_s=token_delay_s)
        self.started = threading.Event()
        self.ended = threading.Event()
        self.outcome: str | None = None
        self.produced = 0
        self.ended_at = 0.0

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TokenDelta]:
        self.started.set()
        outcome = "exhausted"
        try:
            async for delta in super().generate(request):
                self.produced += 1
                yield delta
            outcome = "finished"
        except (asyncio.CancelledError, GeneratorExit):
            outcome = "cancelled"
            raise
        finally:
            self.outcome = outcome
            self.ended_at = time.monotonic()
            self.ended.set()


def test_a_client_that_disconnects_mid_stream_cancels_generation(start_server) -> None:
    engine = RecordingEngine(token_delay_s=0.05)
    server = start_server(engine)
    # ignore_eos: 2000 tokens x 50 ms would run for 100 s if nothing stopped it.
    body = {"model": CHAT, "messages": HELLO, "max_tokens": 2000, "stream": True, "ignore_eos": True}
    with httpx.Client(timeout=10) as client:
        with client.stream(
            "POST", f"{server.base_url}/chat/completions", json=body, headers=server.auth_headers
        ) as r:
            assert r.status_code == 200
            received = 0
            for line in r.iter_lines():
                if line.startswith("data: "):
                    received += 1
                if received >= 4:
                    break
            closed_at = time.monotonic()
    assert engine.ended.wait(5), "generation kept running after the client left"
    assert engine.outcome == "cancelled"
    assert engine.ended_at - closed_at < 1.0
    assert engine.produced < 40


def test_cancellation_reaches_every_choice_of_n(start_server) -> None:
    engine = RecordingEngine(token_delay_s=0.05)
    server = start_server(engine)
    body = {"model": CHAT, "messages": HELLO, "max_tokens": 2000, "stream": True, "n": 3, "ignore_eos": True}
    with httpx.Client(timeout=10) as client:
        with client.stream(
            "POST", f"{server.base_url}/chat/completions", json=body, headers=server.auth_headers
        ) as r:
            for i, _ in enumerate(r.iter_lines()):
                if i > 10:
                    break
    assert engine.ended.wait(5)
    time.sleep(0.3)
    produced = engine.produced
    time.sleep(0.3)
    assert engine.produced == produced, "some choice kept generating"
    assert produced < 3 * 40


@pytest.mark.asyncio
async def test_fifty_concurrent_streams_complete_with_correct_usage(start_server) -> None:
    server = start_server(ScriptedEngine(token_delay_s=0.002))
    client = AsyncOpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=60)

    async def one(i: int) -> tuple[str, Any, Any]:
        messages = [{"role": "user", "content": f"question number {i}"}]
        stream = await client.chat.completions.create(
            model=CHAT, messages=messages, max_tokens=24, temperature=0, **STREAM_WITH_USAGE
        )
        chunks = [c async for c in stream]
        unary = await client.chat.completions.create(
            model=CHAT, messages=messages, max_tokens=24, temperature=0
        )
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks[-1].usage, unary

    started = time.monotonic()
    try:
        results = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(50))), timeout=60)
    finally:
        await client.close()
    assert len(results) == 50
    for text, usage, unary in results:
        assert text == unary.choices[0].message.content
        assert usage.model_dump(exclude_none=True) == unary.usage.model_dump(exclude_none=True)
        assert 1 <= usage.completion_tokens <= 24
    assert time.monotonic() - started < 60


@pytest.mark.asyncio
async def test_in_process_asgi_client(asgi_client: httpx.AsyncClient) -> None:
    response = await asgi_client.post(
        "/chat/completions", json={"model": CHAT, "messages": HELLO, "max_tokens": 3, "stream": True}
    )
    assert response.status_code == 200 and response.content.endswith(b"data: [DONE]\n\n")
    models = await asgi_client.get("/models")
    assert [m["id"] for m in models.json()["data"]] == ["scripted-chat", "scripted-embed"]


def unregistered(*faults: Fault) -> FaultSet:
    """A FaultSet of test-only faults that stay out of the global catalogue."""
    return FaultSet.of(faults)


def test_fault_hooks_control_the_bytes(start_server, sse_data) -> None:
    seen: list[str] = []

    def request_hook(endpoint: str, body: dict) -> dict:
        seen.append(endpoint)
        return {**body, "max_tokens": 2} if endpoint == "chat" else body

    def chunk_hook(endpoint: str, payload: dict, position: int, request: dict) -> dict | None:
        return None if position == 0 else {**payload, "object": "wrong.object"}

    def headers_hook(endpoint: str, headers: dict[str, str]) -> None:
        headers["x-fault"] = endpoint

    faults = unregistered(
        Fault("t-request", "t", "test", request=request_hook),
        Fault("t-response", "t", "test", response=lambda e, p, r: {**p, "model": "renamed"}),
        Fault("t-chunk", "t", "test", chunk=chunk_hook),
        Fault("t-frame", "t", "test", frame=lambda data, event=None: f"data:{data}\r\n\r\n".encode()),
        Fault("t-terminator", "t", "test", terminator=lambda: b"data: [END]\n\n"),
        Fault("t-headers", "t", "test", headers=headers_hook),
        Fault("t-error", "t", "test", error=lambda status, env: (418, {"oops": env["error"]["code"]})),
    )
    server = start_server(faults=faults)
    unary = httpx.post(
        f"{server.base_url}/chat/completions",
        json={"model": CHAT, "messages": HELLO, "max_tokens": 20},
        headers=server.auth_headers,
    )
    assert unary.json()["model"] == "renamed" and unary.json()["usage"]["completion_tokens"] <= 2
    assert unary.headers["x-fault"] == "chat" and seen == ["chat"]
    streamed = httpx.post(
        f"{server.base_url}/chat/completions",
        json={"model": CHAT, "messages": HELLO, "max_tokens": 20, "stream": True},
        headers=server.auth_headers,
    )
    assert b"\r\n\r\n" in streamed.content and streamed.content.endswith(b"data: [END]\n\n")
    assert streamed.headers["x-fault"] == "chat"
    chunks = [
        json.loads(line.removeprefix("data:")) for line in streamed.text.split("\r\n\r\n") if "{" in line
    ]
    assert chunks and all(c["object"] == "wrong.object" for c in chunks)
    assert all("role" not in c["choices"][0]["delta"] for c in chunks if c["choices"])  # chunk 0 dropped
    error = httpx.get(f"{server.base_url}/models", headers={"Authorization": "Bearer nope"})
    assert error.status_code == 418 and error.json() == {"oops": "invalid_api_key"}


class RecordingGateway:
    """A stand-in for the gateway issue: refuses one key, grants others, records settlements."""

    def __init__(self) -> None:
        self.authorized: list[tuple[str, str | None]] = []
        self.settled: list[tuple[str, dict | None, int]] = []

    async def authorize(
        self, request: Any, endpoint: str, model: str | None, *, prompt_tokens: int | None = None
    ) -> Any:
        if request.headers.get("authorization") == "Bearer poor":
            raise APIError(402, "You exceeded your current quota.", code="insufficient_quota")
        self.authorized.append((endpoint, model))

        return SimpleNamespace(endpoint=endpoint, headers={"x-ratelimit-remaining-requests": "99"})

    async def settle(self, grant: Any, usage: dict | None, status: int, latency_ms: float) -> None:
        assert latency_ms >= 0
        self.settled.append((grant.endpoint, usage, status))


def test_gateway_seam_authorizes_and_settles(start_server) -> None:
    gateway = RecordingGateway()
    server = start_server(gateway=gateway)
    client = OpenAI(base_url=server.base_url, api_key="anything", max_retries=0)
    answer = client.chat.completions.with_raw_response.create(
        model=CHAT, messages=HELLO, max_tokens=3, temperature=0
    )
    assert answer.headers["x-ratelimit-remaining-requests"] == "99"
    usage = answer.parse().usage.model_dump(exclude_none=True)
    list(client.chat.completions.create(model=CHAT, messages=HELLO, max_tokens=3, stream=True, temperature=0))
    client.models.list()
    poor = OpenAI(base_url=server.base_url, api_key="poor", max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        poor.chat.completions.create(model=CHAT, messages=HELLO)
    assert caught.value.status_code == 402 and caught.value.body["code"] == "insufficient_quota"
    deadline = time.monotonic() + 5
    while len(gateway.settled) < 3 and time.monotonic() < deadline:  # a stream settles when it ends
        time.sleep(0.01)
    assert gateway.authorized == [("chat", CHAT), ("chat", CHAT), ("models", None)]
    assert sorted(gateway.settled, key=lambda s: s[0]) == [("chat", usage, 200)] * 2 + [("models", None, 200)]
