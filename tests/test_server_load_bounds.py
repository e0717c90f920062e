"""A request cannot hold the server: an abandoned unary generation stops, and heavy work leaves the
event loop free. The server runs as `python -m reference_server` in a subprocess, so that its CPU
time is its own to measure.

The issue's figures (idle within 2 s, a probe within 100 ms) are printed by
benchmarks/bench_server_bounds.py; these tests assert the same behaviour with margins that hold on
a shared 2-core machine, and that the load was real before it was abandoned.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psutil
import pytest
from test_server_serve import READY_PREFIX, read_until_ready, start_cli

KEY = "sk-load-bounds-0123456789abcdef"
IDLE_PERCENT = 10.0
BUSY_PERCENT = 20.0  # well above idle, and what a busy server still gets on 2 cores at load 10
IDLE_WITHIN_S = 5.0  # the issue asks 2 s; the benchmark prints the figure, this allows a busy machine
# The real model stops at its batch's next step boundary: after the prefill or decode step under way
# (a prefill of 8 prompts takes ~1.3 s on an idle machine, several times that on a loaded one).
MODEL_IDLE_WITHIN_S = 15.0
PROBE_WITHIN_S = 1.0  # the issue asks 100 ms; likewise


@dataclass
class Served:
    process: subprocess.Popen[str]
    base_url: str
    chat_model: str
    embed_model: str

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1].split("/")[0])


def serve(engine: str) -> Iterator[Served]:
    process = start_cli(
        "--engine", engine, "--api-key", KEY, "--log-level", "warning"
    )  # the last --engine wins
    try:
        lines = read_until_ready(process, timeout=300)
        base_url = lines[-1].removeprefix(READY_PREFIX)
        models = httpx.get(f"{base_url}/models", headers={"Authorization": f"Bearer {KEY}"}).json()["data"]
        yield Served(process, base_url, models[0]["id"], models[1]["id"])
    finally:
        process.kill()
        process.communicate(timeout=30)


@pytest.fixture(scope="module")
def scripted() -> Iterator[Served]:
    yield from serve("scripted")


@pytest.fixture(scope="module")
def transformers() -> Iterator[Served]:
    yield from serve("transformers")


def abandon_unary(served: Served, busy_for_s: float = 1.5) -> tuple[float, float]:
    """Send a unary n=128 chat that would run for minutes, let it run, close the connection;
    (CPU % while it ran, seconds from the close until a 0.25 s window under IDLE_PERCENT)."""
    body = json.dumps(
        {
            "model": served.chat_model,
            "messages": [{"role": "user", "content": "Tell a long story."}],
            "n": 128,
            "max_tokens": 1024,
            "ignore_eos": True,
            "temperature": 1.0,
        }
    ).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    process = psutil.Process(served.process.pid)
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(head + body)
        time.sleep(0.5)
        busy = process.cpu_percent(interval=busy_for_s)
    closed = time.monotonic()
    process.cpu_percent(None)
    while time.monotonic() - closed < 30:
        if process.cpu_percent(interval=0.25) < IDLE_PERCENT:
            return busy, time.monotonic() - 0.25 - closed
    return busy, float("inf")


def test_abandoned_unary_request_stops_scripted(scripted: Served) -> None:
    busy, idle_after = abandon_unary(scripted)
    assert busy > BUSY_PERCENT, f"the request did not load the server ({busy:.0f}% CPU): this proves nothing"
    assert idle_after < IDLE_WITHIN_S, f"still busy {idle_after:.1f} s after the client left"


@pytest.mark.model
@pytest.mark.slow
def test_abandoned_unary_request_stops_transformers(transformers: Served) -> None:
    busy, idle_after = abandon_unary(transformers, busy_for_s=3.0)
    assert busy > BUSY_PERCENT, f"the request did not load the server ({busy:.0f}% CPU): this proves nothing"
    assert idle_after < MODEL_IDLE_WITHIN_S, f"still busy {idle_after:.1f} s after the client left"


def probe_during_embeddings(
    served: Served, inputs: int = 2048, words: int = 200
) -> tuple[float, list[float]]:
    """Base64 embeddings of `inputs` long texts, with `/v1/models` probed every 50 ms meanwhile;
    (the embeddings' seconds, every probe's seconds)."""
    text = " ".join(["river stone cloud light paper garden window music"] * (words // 8))
    body = {
        "model": served.embed_model,
        "input": [f"{i} {text}" for i in range(inputs)],
        "encoding_format": "base64",
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    done = threading.Event()
    took: list[float] = []

    def embed() -> None:
        started = time.monotonic()
        try:
            response = httpx.post(f"{served.base_url}/embeddings", json=body, headers=headers, timeout=600)
            assert response.status_code == 200, response.text[:300]
        finally:
            took.append(time.monotonic() - started)
            done.set()

    worker = threading.Thread(target=embed)
    worker.start()
    probes: list[float] = []
    with httpx.Client(headers=headers, timeout=60) as client:
        time.sleep(0.3)  # the request is read and being worked on
        while not done.is_set():
            started = time.monotonic()
            assert client.get(f"{served.base_url}/models").status_code == 200
            probes.append(time.monotonic() - started)
            time.sleep(0.05)
    worker.join()
    return took[0], probes


def test_probe_answers_during_heavy_embeddings(scripted: Served) -> None:
    took, probes = probe_during_embeddings(scripted)
    assert took > 1.0 and len(probes) >= 5, f"the embeddings took {took:.2f} s: too light to prove anything"
    assert max(probes) < PROBE_WITHIN_S, f"a probe waited {max(probes):.2f} s (of {len(probes)})"
