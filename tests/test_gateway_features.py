"""The gateway's features end to end over HTTP, in process (ASGI), on the scripted engine."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from reference_server.engines.scripted import ScriptedEngine
from reference_server.gateway import Gateway, GatewayConfig
from reference_server.gateway import _keys as keys_module
from reference_server.gateway._testserver import build_app

pytestmark = pytest.mark.asyncio

ADMIN = {"X-Admin-Key": "adm_test_admin_secret"}
HELLO = {"messages": [{"role": "user", "content": "hello there"}], "max_tokens": 8}
CLIENT_IP = "10.1.2.3"


def config(**overrides: object) -> GatewayConfig:
    base: dict = {"admin_key": "adm_test_admin_secret", "public_prefix": "/v1"}
    return GatewayConfig(**{**base, **overrides})


def with_config(**overrides: object) -> pytest.MarkDecorator:
    """Run a test against a gateway configured with these overrides."""
    return pytest.mark.parametrize("overrides", [overrides], ids=[",".join(overrides)])


@pytest.fixture
def overrides() -> dict:
    return {}


@pytest.fixture
def gateway(tmp_path: Path, overrides: dict) -> Gateway:
    gw = Gateway(tmp_path / "gateway.db", config(**overrides))
    yield gw
    gw.close()


@pytest_asyncio.fixture
async def client(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(ScriptedEngine(), gateway)
    transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as c:
        yield c


async def admin_key(client: httpx.AsyncClient, **spec: object) -> dict:
    response = await client.post("/admin/keys", headers=ADMIN, json={"credit_micros": 1_000_000, **spec})
    assert response.status_code == 201, response.text
    return response.json()


def bearer(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


def assert_envelope(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


# -- keys -------------------------------------------------------------------------------------
async def test_key_lifecycle_shows_raw_key_once_lists_prefixes_and_revokes(client: httpx.AsyncClient) -> None:
    owner = await admin_key(client, prefix="inf_")
    created = await client.post("/v1/keys", headers=bearer(owner["key"]), json={"name": "ci"})
    assert created.status_code == 201
    raw = created.json()["key"]
    assert raw.startswith("sk-") and len(raw) >= 35
    assert created.json()["prefix"] == raw[:7]

    listing = await client.get("/v1/keys", headers=bearer(owner["key"]))
    assert listing.status_code == 200
    assert [k["name"] for k in listing.json()["data"]] == [None, "ci"]
    for raw_key in (raw, owner["key"]):
        assert raw_key not in listing.text
    listed = next(k for k in listing.json()["data"] if k["name"] == "ci")
    assert listed["redacted_value"] == f"{raw[:7]}...{raw[-4:]}"
    assert "key" not in listed and "key_hash" not in listed

    assert (await client.post("/v1/chat/completions", headers=bearer(raw), json=HELLO)).status_code == 200
    revoked = await client.delete(f"/v1/keys/{created.json()['id']}", headers=bearer(owner["key"]))
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    after = await client.post("/v1/chat/completions", headers=bearer(raw), json=HELLO)
    assert_envelope(after, 401, "api_key_revoked")
    # irreversible: no route un-revokes, and the listing keeps it as revoked
    listing = await client.get("/v1/keys", headers=bearer(owner["key"]))
    assert next(k for k in listing.json()["data"] if k["name"] == "ci")["status"] == "revoked"


async def test_keys_are_stored_hashed(client: httpx.AsyncClient, gateway: Gateway) -> None:
    created = await admin_key(client)
    db_bytes = Path(gateway.store.path).read_bytes() + Path(gateway.store.path + "-wal").read_bytes()
    assert created["key"].encode() not in db_bytes
    assert keys_module.hash_key(created["key"]).encode() in db_bytes


@with_config(revoked_status=403)
async def test_revoked_status_is_configurable(client: httpx.AsyncClient) -> None:
    created = await admin_key(client)
    assert (await client.post(f"/admin/keys/{created['id']}/revoke", headers=ADMIN)).status_code == 200
    response = await client.post("/v1/chat/completions", headers=bearer(created["key"]), json=HELLO)
    assert_envelope(response, 403, "api_key_revoked")


async def test_duplicate_key_name_is_a_conflict(client: httpx.AsyncClient) -> None:
    owner = await admin_key(client, name="main")
    first = await client.post("/v1/keys", headers=bearer(owner["key"]), json={"name": "deploy"})
    assert first.status_code == 201
    again = await client.post("/v1/keys", headers=bearer(owner["key"]), json={"name": "deploy"})
    assert_envelope(again, 409, "conflict")
    clash = await client.post(
        "/admin/keys", headers=ADMIN, json={"account_id": owner["account_id"], "name": "main"}
    )
    assert_envelope(clash, 409)


async def test_missing_wrong_and_malformed_keys_are_401(client: httpx.AsyncClient) -> None:
    created = await admin_key(client)
    assert_envelope(await client.post("/v1/chat/completions", json=HELLO), 401, "missing_api_key")
    wrong = created["key"][:-1] + ("A" if created["key"][-1] != "A" else "B")
    assert_envelope(await client.post("/v1/chat/completions", headers=bearer(wrong), json=HELLO), 401)
    assert_envelope(await client.get("/v1/keys", headers={"Authorization": "Basic abc"}), 401)


async def test_key_check_uses_constant_time_compare(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await admin_key(client)
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys_module.hmac, "compare_digest", spy)
    assert (await client.get("/v1/credits", headers=bearer(created["key"]))).status_code == 200
    assert calls and calls[-1][0] == calls[-1][1] == keys_module.hash_key(created["key"]).encode()


async def test_deactivated_account_is_403(client: httpx.AsyncClient) -> None:
    created = await admin_key(client)
    done = await client.post(f"/admin/accounts/{created['account_id']}/deactivate", headers=ADMIN)
    assert done.status_code == 200
    response = await client.post("/v1/chat/completions", headers=bearer(created["key"]), json=HELLO)
    assert_envelope(response, 403, "account_deactivated")


# -- model binding ----------------------------------------------------------------------------
@with_config(model_mismatch_status=403)
async def test_bound_key_serves_its_model_accepts_default_and_refuses_others(
    client: httpx.AsyncClient,
) -> None:
    created = await admin_key(client, model="carp-7b")
    for asked in ("carp-7b", "default", None):
        body = {**HELLO, **({"model": asked} if asked else {})}
        response = await client.post("/v1/chat/completions", headers=bearer(created["key"]), json=body)
        assert response.status_code == 200, response.text
        assert response.json()["model"] == "carp-7b"
    other = await client.post(
        "/v1/chat/completions", headers=bearer(created["key"]), json={**HELLO, "model": "gpt-4o"}
    )
    error = assert_envelope(other, 403, "model_not_allowed")
    assert error["param"] == "model"


# -- credits ----------------------------------------------------------------------------------
async def test_out_of_credit_is_402_and_the_ledger_adds_up(client: httpx.AsyncClient) -> None:
    created = await admin_key(client, credit_micros=150)
    headers = bearer(created["key"])
    statuses = []
    for _ in range(10):  # bounded: 150 micros run out after a few requests at ~30-60 micros each
        statuses.append((await client.post("/v1/chat/completions", headers=headers, json=HELLO)).status_code)
        if statuses[-1] != 200:
            break
    assert statuses[0] == 200 and statuses[-1] == 402
    refused = await client.post("/v1/chat/completions", headers=headers, json=HELLO)
    assert_envelope(refused, 402, "insufficient_quota")

    credits = (await client.get("/v1/credits", headers=headers)).json()
    transactions = (await client.get("/v1/credits/transactions", headers=headers)).json()["data"]
    usage = (await client.get("/v1/usage", headers=headers)).json()
    debits = [t for t in transactions if t["type"] == "debit"]
    assert credits["balance_micros"] == 150 + sum(t["amount_micros"] for t in debits)
    assert len(debits) == len(usage["data"]) == statuses.count(200)
    assert usage["totals"]["cost_micros"] == -sum(t["amount_micros"] for t in debits)
    for row in usage["data"]:
        assert row["total_tokens"] == row["prompt_tokens"] + row["completion_tokens"] > 0
        assert row["latency_ms"] >= 0 and row["status"] == 200 and row["key_id"] == created["id"]


async def test_admin_sets_balance_to_zero_then_tops_up(client: httpx.AsyncClient) -> None:
    created = await admin_key(client)
    zero = await client.put(f"/admin/keys/{created['id']}/balance", headers=ADMIN, json={"balance_micros": 0})
    assert zero.json()["balance_micros"] == 0
    assert_envelope(
        await client.post("/v1/chat/completions", headers=bearer(created["key"]), json=HELLO), 402
    )
    topped = await client.post(
        f"/admin/keys/{created['id']}/credits", headers=ADMIN, json={"amount_micros": 5000}
    )
    assert topped.json()["balance_micros"] == 5000
    assert (
        await client.post("/v1/chat/completions", headers=bearer(created["key"]), json=HELLO)
    ).status_code == 200
    ledger = (await client.get(f"/admin/ledger?key_id={created['id']}", headers=ADMIN)).json()
    assert [t["type"] for t in ledger["transactions"]] == ["grant", "adjustment", "grant", "debit"]
    assert ledger["audit"]["consistent"] is True


async def test_prompt_that_costs_more_than_the_balance_is_refused_before_serving(
    client: httpx.AsyncClient,
) -> None:
    created = await admin_key(client, credit_micros=3)  # a long prompt costs more than 3 micros
    long_prompt = {"messages": [{"role": "user", "content": "hello world " * 200}], "max_tokens": 1}
    assert_envelope(
        await client.post("/v1/chat/completions", headers=bearer(created["key"]), json=long_prompt), 402
    )
    usage = (await client.get("/v1/usage", headers=bearer(created["key"]))).json()
    assert usage["data"] == []


# -- rate limits ------------------------------------------------------------------------------
async def test_rate_limit_429_with_headers_at_two_per_minute(client: httpx.AsyncClient) -> None:
    created = await admin_key(client, rate_limit="2/minute")
    headers = bearer(created["key"])
    first = await client.post("/v1/chat/completions", headers=headers, json=HELLO)
    second = await client.post("/v1/chat/completions", headers=headers, json=HELLO)
    third = await client.post("/v1/chat/completions", headers=headers, json=HELLO)
    assert first.status_code == second.status_code == 200
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert second.headers["x-ratelimit-remaining-requests"] == "0"
    assert_envelope(third, 429, "rate_limit_exceeded")
    assert 1 <= int(third.headers["retry-after"]) <= 60
    assert third.headers["x-ratelimit-limit-requests"] == "2"
    assert third.headers["x-ratelimit-remaining-requests"] == "0"
    assert third.headers["x-ratelimit-reset-requests"].endswith("s")
    # other keys have their own window, at the default 60/minute
    other = await admin_key(client)
    fresh = await client.post("/v1/chat/completions", headers=bearer(other["key"]), json=HELLO)
    assert fresh.status_code == 200 and fresh.headers["x-ratelimit-limit-requests"] == "60"


async def test_bad_rate_limit_and_allowlist_are_400(client: httpx.AsyncClient) -> None:
    bad_rate = await client.post("/admin/keys", headers=ADMIN, json={"rate_limit": "lots"})
    assert assert_envelope(bad_rate, 400)["param"] == "rate_limit"
    bad_ip = await client.post("/admin/keys", headers=ADMIN, json={"allowed_ips": ["10.0.0.300"]})
    assert assert_envelope(bad_ip, 400)["param"] == "allowed_ips"


# -- allowlist --------------------------------------------------------------------------------
async def test_ip_allowlist_with_cidr(client: httpx.AsyncClient) -> None:
    inside = await admin_key(client, allowed_ips=["10.1.0.0/16", "2001:db8::/32"])
    outside = await admin_key(client, allowed_ips=["192.168.0.7"])
    ok = await client.post("/v1/chat/completions", headers=bearer(inside["key"]), json=HELLO)
    assert ok.status_code == 200
    assert inside["allowed_ips"] == ["10.1.0.0/16", "2001:db8::/32"]
    blocked = await client.post("/v1/chat/completions", headers=bearer(outside["key"]), json=HELLO)
    assert_envelope(blocked, 403, "ip_not_allowed")
    assert_envelope(await client.get("/v1/credits", headers=bearer(outside["key"])), 403)


# -- cold start -------------------------------------------------------------------------------
@with_config(cold_start_status=503)
async def test_cold_start_refuses_with_retry_after_until_ready(client: httpx.AsyncClient) -> None:
    created = await admin_key(client)
    body = {**HELLO, "model": "qwen-3b"}
    set_loading = await client.put(
        "/admin/models/qwen-3b/status", headers=ADMIN, json={"status": "loading", "ready_after_s": 0.6}
    )
    assert set_loading.json()["status"] == "loading"
    assert (await client.get("/v1/models/qwen-3b/health")).json() == {"model": "qwen-3b", "status": "loading"}
    refused = await client.post("/v1/chat/completions", headers=bearer(created["key"]), json=body)
    assert_envelope(refused, 503, "model_loading")
    assert refused.headers["retry-after"] == "1"
    other = await client.post(
        "/v1/chat/completions", headers=bearer(created["key"]), json={**HELLO, "model": "x"}
    )
    assert other.status_code == 200  # only the loading model is refused
    await asyncio.sleep(0.7)
    assert (await client.get("/v1/models/qwen-3b/health")).json()["status"] == "ready"
    assert (
        await client.post("/v1/chat/completions", headers=bearer(created["key"]), json=body)
    ).status_code == 200


async def test_cold_start_default_is_502_and_unavailable_is_refused_too(client: httpx.AsyncClient) -> None:
    created = await admin_key(client)
    await client.put(
        "/admin/models/Qwen/Qwen2.5-3B-Instruct/status", headers=ADMIN, json={"status": "loading"}
    )
    body = {**HELLO, "model": "Qwen/Qwen2.5-3B-Instruct"}
    refused = await client.post("/v1/chat/completions", headers=bearer(created["key"]), json=body)
    assert_envelope(refused, 502, "model_loading")
    assert refused.headers["retry-after"] == "5"
    await client.put(
        "/admin/models/Qwen/Qwen2.5-3B-Instruct/status", headers=ADMIN, json={"status": "unavailable"}
    )
    assert (await client.get("/v1/models/Qwen/Qwen2.5-3B-Instruct/health")).json()["status"] == "unavailable"
    assert_envelope(await client.post("/v1/chat/completions", headers=bearer(created["key"]), json=body), 502)
    bad = await client.put("/admin/models/m/status", headers=ADMIN, json={"status": "warming"})
    assert assert_envelope(bad, 400)["param"] == "status"


# -- traces -----------------------------------------------------------------------------------
async def test_trace_id_round_trip_without_secrets(client: httpx.AsyncClient) -> None:
    created = await admin_key(client)
    plain = await client.post("/v1/chat/completions", headers=bearer(created["key"]), json=HELLO)
    assert "x-trace-id" not in plain.headers
    traced = await client.post(
        "/v1/chat/completions", headers=bearer(created["key"], **{"X-Carrot-Trace": "true"}), json=HELLO
    )
    trace_id = traced.headers["x-trace-id"]
    trace = await client.get(f"/v1/traces/{trace_id}", headers=bearer(created["key"]))
    assert trace.status_code == 200
    record = trace.json()
    assert record["id"] == trace_id and record["status"] == 200 and record["path"] == "/v1/chat/completions"
    assert record["usage"] == traced.json()["usage"]
    assert record["request_id"] == traced.headers["x-request-id"]
    assert created["key"] not in trace.text and record["request_headers"]["authorization"] == "[REDACTED]"
    # readable only with a key of the same account
    stranger = await admin_key(client)
    assert_envelope(await client.get(f"/v1/traces/{trace_id}", headers=bearer(stranger["key"])), 404)
    assert_envelope(await client.get(f"/v1/traces/{trace_id}"), 401)


# -- admin ------------------------------------------------------------------------------------
async def test_admin_api_requires_the_admin_key(client: httpx.AsyncClient) -> None:
    customer = await admin_key(client)
    assert_envelope(await client.post("/admin/keys", json={}), 401, "invalid_admin_key")
    assert_envelope(await client.post("/admin/keys", headers={"X-Admin-Key": "adm_wrong"}, json={}), 401)
    assert_envelope(await client.post("/admin/keys", headers=bearer(customer["key"]), json={}), 401)
    by_bearer = await client.post("/admin/keys", headers=bearer("adm_test_admin_secret"), json={})
    assert by_bearer.status_code == 201
    assert_envelope(await client.get("/admin/keys/key_nope", headers=ADMIN), 404)


@with_config(admin_key=None)
async def test_no_admin_key_means_no_admin_routes(client: httpx.AsyncClient) -> None:
    assert (await client.post("/admin/keys", json={})).status_code == 404


async def test_management_endpoints_reject_bad_input(client: httpx.AsyncClient) -> None:
    owner = await admin_key(client)
    headers = bearer(owner["key"])
    not_json = await client.post(
        "/v1/keys", headers={**headers, "content-type": "application/json"}, content=b"{"
    )
    assert_envelope(not_json, 400)
    assert_envelope(await client.post("/v1/keys", headers=headers, json=["x"]), 400)
    assert_envelope(await client.post("/v1/keys", headers=headers, json={"name": 7}), 400)
    assert_envelope(await client.get("/v1/usage?limit=0", headers=headers), 400)
    assert_envelope(await client.delete("/v1/keys/key_missing", headers=headers), 404)
    stranger = await admin_key(client)
    assert_envelope(await client.delete(f"/v1/keys/{owner['id']}", headers=bearer(stranger["key"])), 404)


async def test_usage_is_filterable_by_key(client: httpx.AsyncClient) -> None:
    owner = await admin_key(client)
    second = (await client.post("/v1/keys", headers=bearer(owner["key"]), json={"name": "two"})).json()
    for key in (owner["key"], second["key"], second["key"]):
        assert (await client.post("/v1/chat/completions", headers=bearer(key), json=HELLO)).status_code == 200
    everything = (await client.get("/v1/usage", headers=bearer(owner["key"]))).json()
    only_second = (await client.get(f"/v1/usage?key_id={second['id']}", headers=bearer(owner["key"]))).json()
    assert everything["totals"]["requests"] == 3
    assert only_second["totals"]["requests"] == 2
    assert {row["key_id"] for row in only_second["data"]} == {second["id"]}
