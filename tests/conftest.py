"""Fixtures that start the reference server: over real sockets (uvicorn in a background thread on a
free loopback port) or in-process (`httpx.ASGITransport`).

- `scripted_server`: one server on the scripted engine for the whole session (read-only tests).
- `start_server`: a factory for servers of a test's own (an engine, faults or limits of its own);
  each is stopped when the test ends.
- `sdk_client`: the openai SDK's client of `scripted_server`.
- `asgi_client`: an `httpx.AsyncClient` bound in-process to an app on the scripted engine.

And `runs`: a writable copy of the report tests' fixture runs (tests/data/report/).
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from openai import OpenAI

from reference_server.app import create_app
from reference_server.engines.base import Engine
from reference_server.engines.scripted import ScriptedEngine
from reference_server.faults import FaultSet
from reference_server.serve import BackgroundServer

ASGI_BASE_URL = "http://testserver/v1"
REPORT_RUNS = Path(__file__).parent / "data" / "report"


@dataclass(frozen=True)
class RunningServer:
    """A started reference server: where it is, the key it accepts, and the engine behind it."""

    base_url: str  # ends with /v1, as the openai SDK wants it
    api_key: str
    engine: Engine
    background: BackgroundServer

    @property
    def root_url(self) -> str:
        return self.background.root_url

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def new_test_key() -> str:
    return "sk-test-" + secrets.token_hex(12)


def _start(engine: Engine, faults: FaultSet | None, app_options: dict[str, Any]) -> RunningServer:
    key = app_options.pop("api_key", None) or new_test_key()
    app = create_app(engine, api_keys=[key], faults=faults, **app_options)
    background = BackgroundServer(app).start()
    return RunningServer(background.base_url, key, engine, background)


@pytest.fixture(scope="session")
def scripted_server() -> Iterator[RunningServer]:
    """The reference server on the scripted engine, shared by the session; do not change its engine."""
    running = _start(ScriptedEngine(), None, {})
    try:
        yield running
    finally:
        running.background.stop()


@pytest.fixture(scope="session")
def sdk_client(scripted_server: RunningServer) -> OpenAI:
    """The openai SDK's client of `scripted_server`; no retries, so a failure shows at once."""
    return OpenAI(
        base_url=scripted_server.base_url, api_key=scripted_server.api_key, max_retries=0, timeout=30
    )


StartServer = Callable[..., RunningServer]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """`start_server(engine=None, *, faults=None, api_key=None, **create_app_options) -> RunningServer`."""
    started: list[RunningServer] = []

    def start(
        engine: Engine | None = None, *, faults: FaultSet | None = None, **app_options: Any
    ) -> RunningServer:
        running = _start(engine or ScriptedEngine(), faults, app_options)
        started.append(running)
        return running

    try:
        yield start
    finally:
        for running in started:
            running.background.stop()


@pytest.fixture
def asgi_key() -> str:
    return new_test_key()


@pytest_asyncio.fixture
async def asgi_client(asgi_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """In-process client for an app on the scripted engine, with its key set; base URL ends in /v1."""
    app = create_app(ScriptedEngine(), api_keys=[asgi_key])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url=ASGI_BASE_URL, headers={"Authorization": f"Bearer {asgi_key}"}
    ) as client:
        yield client


@pytest.fixture(scope="session")
def sse_data() -> Callable[[bytes], list[str]]:
    """`sse_data(raw) -> [data, ...]`: a lenient event splitter for tests that check framing themselves."""
    return parse_sse_data


def parse_sse_data(raw: bytes) -> list[str]:
    """The `data` of each event of a well-formed stream (test helper; the suite has a strict reader)."""
    out = []
    for block in raw.decode("utf-8").split("\n\n"):
        lines = [line[len("data: ") :] for line in block.split("\n") if line.startswith("data: ")]
        if lines:
            out.append("\n".join(lines))
    return out


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """A writable copy of the fixture runs in tests/data/report/ (reports are written into the run
    directories)."""
    shutil.copytree(REPORT_RUNS, tmp_path / "runs")
    return tmp_path / "runs"
