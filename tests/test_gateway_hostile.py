"""The gateway under hostile use: concurrent requests racing for the last credit, and a management
API fed numbers and strings it cannot store. The full reference app with a gateway, over real
sockets (uvicorn in a thread), on the scripted engine.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reference_server.app import create_app
from reference_server.engines.base import ChatMessage
from reference_server.engines.scripted import ScriptedEngine
from reference_server.gateway import Gateway, GatewayConfig
from reference_server.serve import BackgroundServer

ADMIN_KEY = "adm_hostile_gateway_admin_secret"
ADMIN = {"X-Admin-Key": ADMIN_KEY}
MODEL = "scripted-chat"
MAX_TOKENS = 40
CONCURRENT = 200
COVERED = 10  # the key's credit covers this many requests at their most


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[BackgroundServer, Gateway, ScriptedEngine]]:
    engine = ScriptedEngine(token_delay_s=0.005)  # requests overlap: each takes a fraction of a second
    config = GatewayConfig(admin_key=ADMIN_KEY, public_prefix="/v1", default_rate_limit="100000/minute")
    gateway = Gateway(tmp_path / "gateway.db", config)
    app = create_app(engine, api_keys=(), gateway=gateway)
    with BackgroundServer(app) as background:
        yield background, gateway, engine
    gateway.close()


def _most_cost(engine: ScriptedEngine, gateway: Gateway, content: str) -> int:
    prompt = len(engine.chat_prompt([ChatMessage("user", content)]))
    return gateway.config.pricing.cost(prompt, MAX_TOKENS)


def test_concurrent_requests_never_overdraw(served: tuple[BackgroundServer, Gateway, ScriptedEngine]) -> None:
    """200 concurrent requests at a key whose credit covers 10 at their most: the balance stays >= 0
    and equals the credit less the logged debits; every refusal is a 402 envelope."""
    background, gateway, engine = served
    content = "spend it"
    credit = COVERED * _most_cost(engine, gateway, content)
    raw, record = gateway.issue_key(credit_micros=credit)
    body = {"model": MODEL, "messages": [{"role": "user", "content": content}], "max_tokens": MAX_TOKENS,
            "ignore_eos": True}  # fmt: skip

    async def fire() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=CONCURRENT)
        async with httpx.AsyncClient(base_url=background.base_url, limits=limits, timeout=60) as client:
            headers = {"Authorization": f"Bearer {raw}"}
            return list(
                await asyncio.gather(
                    *(client.post("/chat/completions", json=body, headers=headers) for _ in range(CONCURRENT))
                )
            )

    responses = asyncio.run(fire())
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 402}, sorted(set(statuses))
    assert statuses.count(200) >= COVERED, f"only {statuses.count(200)} served"
    for refused in (r for r in responses if r.status_code == 402):
        assert refused.json()["error"]["code"] == "insufficient_quota"
    audit = gateway.store.audit(record.account_id)
    debited = sum(
        -row["amount_micros"] for row in gateway.store.transactions(record.account_id, limit=10_000)
        if row["type"] == "debit"
    )  # fmt: skip
    assert audit["balance_micros"] >= 0, audit
    assert audit["balance_micros"] == credit - debited, audit
    assert audit["consistent"], audit
    served_costs = [row["cost_micros"] for row in gateway.store.usage(record.account_id, limit=10_000)
                    if row["status"] == 200]  # fmt: skip
    assert len(served_costs) == statuses.count(200) and all(cost > 0 for cost in served_costs)
    # and no reservation is left holding credit
    assert gateway.store.orphaned_reservations() == []


def test_a_request_that_may_cost_more_than_the_credit_is_402(
    served: tuple[BackgroundServer, Gateway, ScriptedEngine],
) -> None:
    background, gateway, engine = served
    raw, _ = gateway.issue_key(credit_micros=_most_cost(engine, gateway, "x") - 1)
    response = httpx.post(
        f"{background.base_url}/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "x"}], "max_tokens": MAX_TOKENS},
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 402 and "max_tokens" in response.json()["error"]["message"]


# -- the management API -----------------------------------------------------------------------------
def _chat_ok(background: BackgroundServer, raw: str) -> int:
    return httpx.post(
        f"{background.base_url}/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
        headers={"Authorization": f"Bearer {raw}"},
    ).status_code


HOSTILE_KEYS = [
    ("nesting", '{"name":' + "[" * 30_000 + "]" * 30_000 + "}", None),
    ("4300-digits", '{"credit_micros":' + "7" * 4301 + "}", None),
    ("past-int64", json.dumps({"credit_micros": 2**63}), "credit_micros"),
    ("negative-credit", json.dumps({"credit_micros": -1}), "credit_micros"),
    ("float-credit", json.dumps({"credit_micros": 1.5}), "credit_micros"),
    ("overflow-float", '{"credit_micros":1e999}', None),
    ("nan", '{"credit_micros":NaN}', None),
    ("surrogate-name", '{"name":"\\ud800"}', "name"),
    ("rate-zero-period", json.dumps({"rate_limit": "1/0 second"}), "rate_limit"),
    ("rate-zero-amount", json.dumps({"rate_limit": "0/minute"}), "rate_limit"),
    ("rate-garbage", json.dumps({"rate_limit": "lots"}), "rate_limit"),
    ("prefix-with-space", json.dumps({"prefix": "a b"}), "prefix"),
    ("bad-ip", json.dumps({"allowed_ips": ["not-an-ip"]}), "allowed_ips"),
    ("empty-name", json.dumps({"name": "  "}), "name"),
    ("control-in-model", json.dumps({"model": "m\r\nX-Injected: 1"}), "model"),
    ("not-an-object", "[]", None),
]


@pytest.mark.parametrize(("name", "raw", "param"), HOSTILE_KEYS, ids=[h[0] for h in HOSTILE_KEYS])
def test_hostile_key_creation_is_400(
    served: tuple[BackgroundServer, Gateway, ScriptedEngine], name: str, raw: str, param: str | None
) -> None:
    background, _, _ = served
    response = httpx.post(
        f"{background.root_url}/admin/keys",
        content=raw.encode(),
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    if param is not None:
        assert error["param"] == param, error


def test_balances_stay_integers(served: tuple[BackgroundServer, Gateway, ScriptedEngine]) -> None:
    background, gateway, _ = served
    root = background.root_url
    created = httpx.post(f"{root}/admin/keys", json={"credit_micros": 2**62}, headers=ADMIN).json()
    key_id = created["id"]
    again = httpx.post(f"{root}/admin/keys/{key_id}/credits", json={"amount_micros": 2**62}, headers=ADMIN)
    assert again.status_code == 400 and again.json()["error"]["param"] == "amount_micros"
    for value in (2**63, -5, 1.0, "12"):
        response = httpx.put(
            f"{root}/admin/keys/{key_id}/balance", json={"balance_micros": value}, headers=ADMIN
        )
        assert response.status_code == 400, (value, response.text)
    balance = httpx.get(f"{root}/admin/keys/{key_id}", headers=ADMIN).json()["balance_micros"]
    assert balance == 2**62 and isinstance(balance, int)
    assert isinstance(gateway.store.balance(created["account_id"]), int)


@pytest.mark.parametrize("ready_after_s", ["NaN", "1e999", "-1", '"soon"', "true", "1e12"])
def test_model_status_numbers_are_checked(
    served: tuple[BackgroundServer, Gateway, ScriptedEngine], ready_after_s: str
) -> None:
    """A bad ready_after_s is a 400 and leaves chat serving (it used to make every later chat a 500)."""
    background, gateway, _ = served
    raw, _ = gateway.issue_key(credit_micros=10**9)
    response = httpx.put(
        f"{background.root_url}/admin/models/{MODEL}/status",
        content=f'{{"status":"loading","ready_after_s":{ready_after_s}}}'.encode(),
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["error"]["param"] in ("ready_after_s", None)
    assert _chat_ok(background, raw) == 200
