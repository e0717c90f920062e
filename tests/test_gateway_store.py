"""The gateway's ledger and store: pricing, idempotent settlement, concurrency, restart."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from starlette.requests import Request

from reference_server.errors import APIError
from reference_server.gateway import Gateway, GatewayConfig, Pricing
from reference_server.gateway import _store as store_module
from reference_server.gateway._store import UsageEntry
from reference_server.gateway._usage import TokenUsage

USAGE = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}


def http_request(key: str | None = None, client: str = "127.0.0.1", **headers: str) -> Request:
    raw = [(b"authorization", f"Bearer {key}".encode())] if key else []
    raw += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": raw,
             "client": (client, 5000), "query_string": b""}  # fmt: skip
    return Request(scope)


@pytest.fixture
def gateway(tmp_path: Path) -> Gateway:
    gw = Gateway(tmp_path / "g.db", GatewayConfig(default_rate_limit="100000/minute"))
    yield gw
    gw.close()


def test_pricing_is_integer_micros_rounded_up() -> None:
    price = Pricing(prompt_micros_per_1k=1_000, completion_micros_per_1k=2_000)
    assert price.cost(0, 0) == 0
    assert price.cost(1, 0) == 1
    assert price.cost(120, 30) == 180
    assert Pricing(prompt_micros_per_1k=1, completion_micros_per_1k=1).cost(1, 1) == 1  # 0.002 -> 1
    assert Pricing(prompt_micros_per_1k=3, completion_micros_per_1k=0).cost(1000, 5) == 3
    with pytest.raises(ValueError):
        Pricing(prompt_micros_per_1k=-1)


def test_usage_accepts_openai_and_karta_names_and_rejects_nonsense() -> None:
    assert TokenUsage.of(USAGE).total_tokens == 150
    karta = TokenUsage.of({"input_tokens": 42, "output_tokens": 28, "total_tokens": 70})
    assert (karta.prompt_tokens, karta.completion_tokens, karta.total_tokens) == (42, 28, 70)
    assert TokenUsage.of(None).total_tokens == 0
    for bad in ({"prompt_tokens": -1}, {"completion_tokens": 1.5}, {"prompt_tokens": True}):
        with pytest.raises(ValueError):
            TokenUsage.of(bad)


def test_config_rejects_unsafe_or_unknown_settings() -> None:
    with pytest.raises(ValueError):
        GatewayConfig(revoked_status=404)
    with pytest.raises(ValueError):
        GatewayConfig(cold_start_status=500)
    with pytest.raises(ValueError):
        GatewayConfig(sqlite_synchronous="OFF")
    with pytest.raises(ValueError):
        GatewayConfig(default_rate_limit="often")


def test_database_is_wal(gateway: Gateway) -> None:
    with sqlite3.connect(gateway.store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.asyncio
async def test_settle_is_idempotent_per_request(gateway: Gateway) -> None:
    raw, key = gateway.issue_key(credit_micros=10_000)
    grant = await gateway.authorize(http_request(raw), "chat", "m")
    assert await gateway.settle(grant, usage=USAGE, status=200) == 180
    assert await gateway.settle(grant, usage=USAGE, status=200) is None
    audit = gateway.store.audit(key.account_id)
    assert audit["debits"] == audit["usage_rows"] == 1
    assert audit["balance_micros"] == 10_000 - 180 and audit["consistent"]


@pytest.mark.asyncio
async def test_concurrent_requests_never_lose_or_double_a_debit(gateway: Gateway) -> None:
    raw, key = gateway.issue_key(credit_micros=10_000_000)

    async def one() -> int | None:
        grant = await gateway.authorize(http_request(raw), "chat", "m")
        await asyncio.sleep(0)
        cost = await gateway.settle(grant, usage=USAGE, status=200)
        await gateway.settle(grant, usage=USAGE, status=200)  # a retried settle must not double
        return cost

    costs = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(300))), timeout=60)

    # and writers on other threads at the same time (a second app thread, an admin call)
    def grants() -> None:
        for _ in range(50):
            gateway.store.grant(key.account_id, 7)

    threads = [threading.Thread(target=grants) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    audit = gateway.store.audit(key.account_id)
    assert costs == [180] * 300
    assert audit["debits"] == audit["usage_rows"] == 300
    assert audit["balance_micros"] == 10_000_000 + 3 * 50 * 7 - 300 * 180
    assert audit["consistent"]


@pytest.mark.asyncio
async def test_a_cancelled_settle_still_commits(gateway: Gateway) -> None:
    raw, key = gateway.issue_key(credit_micros=10_000)
    grant = await gateway.authorize(http_request(raw), "chat", "m")
    task = asyncio.create_task(gateway.settle(grant, usage=USAGE, status=499))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await gateway.run_in_db(lambda: None)  # the database thread has drained
    assert gateway.store.audit(key.account_id)["usage_rows"] == 1


@pytest.mark.asyncio
async def test_restart_keeps_keys_credits_usage_and_revocations(tmp_path: Path) -> None:
    path = tmp_path / "restart.db"
    first = Gateway(path)
    raw, key = first.issue_key(credit_micros=5_000, name="keeper", model="bound-model")
    revoked_raw, revoked = first.issue_key(key.account_id, name="gone")
    grant = await first.authorize(http_request(raw), "chat", "default")
    await first.settle(grant, usage=USAGE, status=200)
    first.store.revoke_key(revoked.id)
    first.close()

    second = Gateway(path)
    try:
        grant = await second.authorize(http_request(raw), "chat", "default")
        assert grant.model == "bound-model" and grant.key_id == key.id
        assert second.store.balance(key.account_id) == 5_000 - 180
        assert [row["request_id"] for row in second.store.usage(key.account_id)] != []
        assert [k.name for k in second.store.list_keys(key.account_id)] == ["keeper", "gone"]
        with pytest.raises(APIError) as refused:
            await second.authorize(http_request(revoked_raw), "chat", None)
        assert refused.value.status == 401
        assert second.store.audit(key.account_id)["consistent"]
    finally:
        second.close()


def test_store_settle_writes_usage_and_debit_together(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key = gateway.issue_key(credit_micros=1_000)
    entry = UsageEntry("req_x", key.account_id, key.id, "chat", "m", 1, 2, 3, 5, 1.0, 200)
    assert gateway.store.settle(entry) is True

    def crash(*args: object) -> None:
        raise RuntimeError("crash between the usage row and its debit")

    # A failure after the usage row is written must take the usage row with it.
    monkeypatch.setattr(store_module, "_append", crash)
    with pytest.raises(RuntimeError):
        gateway.store.settle(UsageEntry("req_y", key.account_id, key.id, "chat", "m", 1, 2, 3, 5, 1.0, 200))
    monkeypatch.undo()
    with sqlite3.connect(gateway.store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM usage WHERE request_id = 'req_y'").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM transactions WHERE request_id = 'req_y'").fetchone()[0] == 0
    audit = gateway.store.audit(key.account_id)
    assert audit["consistent"] and audit["usage_rows"] == 1 and audit["balance_micros"] == 995


def test_one_gateway_serves_successive_event_loops(gateway: Gateway) -> None:
    """An embedded server may be started twice in one process: the limiter must not bind a loop."""
    raw, _ = gateway.issue_key(credit_micros=10_000, rate_limit="3/minute")

    async def one() -> str:
        return (await gateway.authorize(http_request(raw), "chat", "m")).headers[
            "x-ratelimit-remaining-requests"
        ]

    assert [asyncio.run(one()) for _ in range(3)] == ["2", "1", "0"]
    with pytest.raises(APIError) as refused:
        asyncio.run(one())
    assert refused.value.status == 429 and refused.value.headers["retry-after"]
