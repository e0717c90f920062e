"""The gateway behind the reference app (`create_app(..., gateway=...)`): the seam both sides use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from reference_server.app import create_app
from reference_server.engines.scripted import ScriptedEngine
from reference_server.gateway import Gateway, GatewayConfig

pytestmark = pytest.mark.asyncio
CHAT = {"model": "scripted-chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}


@pytest.fixture
def gateway(tmp_path: Path) -> Gateway:
    gw = Gateway(tmp_path / "g.db", GatewayConfig(default_rate_limit="3/minute"))
    yield gw
    gw.close()


@pytest_asyncio.fixture
async def client(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ScriptedEngine(), api_keys=(), gateway=gateway)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app.test") as c:
        yield c


async def test_served_requests_are_logged_debited_and_carry_rate_headers(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    raw, key = gateway.issue_key(credit_micros=100_000)
    headers = {"Authorization": f"Bearer {raw}"}
    unary = await client.post("/v1/chat/completions", headers=headers, json=CHAT)
    assert unary.status_code == 200
    assert unary.headers["x-ratelimit-limit-requests"] == "3"
    assert unary.headers["x-ratelimit-remaining-requests"] == "2"
    streamed = await client.post(
        "/v1/chat/completions",
        headers=headers,
        json={**CHAT, "stream": True, "stream_options": {"include_usage": True}},
    )
    assert streamed.status_code == 200 and streamed.text.rstrip().endswith("data: [DONE]")
    await asyncio.sleep(0.2)  # a stream settles as it ends, in a task of the app's

    rows = {row["request_id"]: row for row in gateway.store.usage(key.account_id)}
    assert rows[unary.headers["x-request-id"]]["total_tokens"] == unary.json()["usage"]["total_tokens"]
    assert len(rows) == 2 and all(row["status"] == 200 for row in rows.values())
    audit = gateway.store.audit(key.account_id)
    assert audit["consistent"] and audit["balance_micros"] == 100_000 - sum(
        r["cost_micros"] for r in rows.values()
    )

    third = await client.post("/v1/chat/completions", headers=headers, json=CHAT)
    limited = await client.post("/v1/chat/completions", headers=headers, json=CHAT)
    assert third.status_code == 200 and limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit_exceeded" and "retry-after" in limited.headers


async def test_refusals_reach_the_client_as_envelopes(client: httpx.AsyncClient, gateway: Gateway) -> None:
    broke, _ = gateway.issue_key()
    response = await client.post(
        "/v1/chat/completions", headers={"Authorization": f"Bearer {broke}"}, json=CHAT
    )
    assert response.status_code == 402 and response.json()["error"]["code"] == "insufficient_quota"
    listing = await client.get("/v1/models", headers={"Authorization": f"Bearer {broke}"})
    assert listing.status_code == 200  # listing models costs nothing: not refused for credit
    missing = await client.post("/v1/chat/completions", json=CHAT)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_api_key"
