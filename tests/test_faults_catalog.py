"""The fault catalogue against the check registry, and every fault proven against the reference server.

Static: check ids are unique and well formed, every check has a fault, every fault names a
registered check. Live: the reference server (scripted engine, real loopback socket) serves each
check's scenario; healthy, the check passes; with each of its faults, the check fails. The
`governance.*` checks need the gateway's endpoints, so theirs run against the Inferbase persona
(the persona that documents keys, credits, usage and model health), its admin API making the states.
"""

from __future__ import annotations

import inspect
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from compat_suite.checks import registry, run
from compat_suite.checks._clients import node_sdk_unavailable
from compat_suite.profiles import load_profile
from compat_suite.target import Target
from reference_server import app as app_module
from reference_server.app import create_app
from reference_server.engines.scripted import ScriptedEngine
from reference_server.faults import FaultSet, catalog
from reference_server.gateway import Gateway
from reference_server.personas import load_persona, seed_key

KEY = "sk-faults-catalog-test-0000"
CHAT_MODEL, EMBED_MODEL = "scripted-chat", "scripted-embed"
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)+$")
START_TIMEOUT_S = 10.0


# -- static ----------------------------------------------------------------------------------------------
def test_check_ids_are_kebab_case_area_dot_aspect() -> None:
    bad = [i for i in registry() if not ID_PATTERN.match(i)]
    assert not bad, f"check ids not `<area>.<aspect>` in kebab case: {bad}"


def test_every_check_has_a_fault() -> None:
    covered = {f.check for f in catalog().values()}
    missing = sorted(set(registry()) - covered)
    assert not missing, f"checks no fault can make fail: {missing}"


def test_every_fault_names_a_registered_check() -> None:
    unknown = {f.id: f.check for f in catalog().values() if f.check not in registry()}
    assert not unknown, f"faults naming unregistered checks: {unknown}"


def test_fault_ids_name_their_area() -> None:
    for fault in catalog().values():
        assert ID_PATTERN.match("x." + fault.id), fault.id
        area = fault.id.split("-")[0]
        assert fault.check.startswith(area + "."), (
            f"{fault.id} should be named after its area ({fault.check})"
        )
        assert fault.description


# -- live ----------------------------------------------------------------------------------------------------
class LiveServer:
    """The reference server on a free loopback port, in a thread; its fault set can be swapped."""

    base_path = "/v1"

    def __init__(self) -> None:
        self.app = create_app(ScriptedEngine(token_delay_s=0.002), api_keys=[KEY])
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="critical"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the reference server did not start")
            time.sleep(0.02)
        return self

    @property
    def root_url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    @property
    def base_url(self) -> str:
        return self.root_url + self.base_path

    def use(self, *fault_ids: str) -> None:
        self.app.state.server.faults = FaultSet(fault_ids)

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class LivePersona(LiveServer):
    """The Inferbase persona (gateway in SQLite under `db`, admin API on) in place of the plain app."""

    admin_key = "adm_faults_catalog_0000"
    key = "inf_faults_catalog_test_0000"

    def __init__(self, db: Any) -> None:
        persona = load_persona("inferbase")
        self.base_path = persona.base_path
        self.gateway = Gateway(db, persona.gateway_config(self.admin_key))
        seed_key(self.gateway, persona, self.key, model=CHAT_MODEL, rate_limit="1000000/minute")
        self.adapter = persona.build(ScriptedEngine(token_delay_s=0.002), self.gateway)
        self.app = self.adapter.app  # the shared app behind the adapter: its fault set is swapped
        self.server = uvicorn.Server(
            uvicorn.Config(self.adapter, host="127.0.0.1", port=0, log_level="critical")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.gateway.close()


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[LiveServer, Target]]:
    with LiveServer() as server:
        target = Target(
            base_url=server.base_url,
            api_key=KEY,
            profile=load_profile("openai"),
            model=CHAT_MODEL,
            embedding_model=EMBED_MODEL,
            timeout_s=10.0,
        )
        try:
            yield server, target
        finally:
            target.close()


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LivePersona, Target]]:
    with LivePersona(tmp_path_factory.mktemp("gateway") / "gateway.db") as server:
        target = Target(
            base_url=server.base_url,
            api_key=server.key,
            profile=load_profile("inferbase"),
            model=CHAT_MODEL,
            timeout_s=10.0,
        )
        try:
            yield server, target
        finally:
            target.close()


def _stop_from(text: Any) -> str | None:
    words = text.split() if isinstance(text, str) else []
    return " " + words[len(words) // 2] if len(words) >= 2 else None


def scenario(check_id: str, t: Target) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The exchanges (and context) that check `check_id` is run on: small, deterministic requests."""
    area, _, aspect = check_id.partition(".")
    chat = {
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": 16,
        "temperature": 0,
        "seed": 1,
    }
    comp = {"prompt": "The sky is", "max_tokens": 16, "temperature": 0, "seed": 1}
    if area in ("chat", "completions"):
        send = t.chat if area == "chat" else t.completions
        base = chat if area == "chat" else comp
        if aspect == "n.indexed":
            return (send({**base, "n": 2}),), {}
        if aspect == "max-tokens.respected":
            return (send({**base, "max_tokens": 2}),), {}
        if aspect == "stop.honoured":
            first = send(base).json
            choice = first["choices"][0]
            stop = _stop_from(choice["message"]["content"] if area == "chat" else choice["text"])
            assert stop, f"no stop word in {first}"
            return (send({**base, "stop": [stop]}),), {}
        if aspect == "seed.determinism":
            body = {**base, "temperature": 1.0, "max_tokens": 12}
            return (send(body), send(body)), {}
        if aspect == "logprobs.valid":
            return (send({**base, "logprobs": True, "top_logprobs": 2}),), {}
        if aspect == "response-format.json":
            return (send({**base, "max_tokens": 48, "response_format": {"type": "json_object"}}),), {}
        if aspect == "echo.prefix":
            return (send({**base, "echo": True}),), {}
        return (send(base),), {}
    if area == "embeddings":
        inputs = {"input": ["one", "two words", "three more words"]}
        if aspect == "base64.equals-float":
            return (t.embeddings({**inputs, "encoding_format": "base64"}), t.embeddings(inputs)), {}
        if aspect == "dimensions.param":
            return (t.embeddings({**inputs, "dimensions": 16}),), {}
        return (t.embeddings(inputs),), {}
    if area == "models":
        if aspect == "retrieve.schema":
            return (t.get("model", f"/models/{CHAT_MODEL}"),), {}
        return (t.get("models"),), {
            "model": CHAT_MODEL,
            "embedding_model": EMBED_MODEL,
        } if "contains" in aspect else {}
    if area == "stream":
        body = {**chat, "stream_options": {"include_usage": True}}
        streamed = t.chat_stream(body)
        return ((streamed, t.chat(chat)) if aspect == "text.matches-unary" else (streamed,)), {}
    if area == "errors":
        return _error_scenario(aspect, t, chat)
    if area == "clients":  # where each SDK's fault shows: the Node SDK's on embeddings, Python's on streams
        if "node" in aspect:
            return (t.embeddings({"input": ["one"]}),), {}
        # Sent as that SDK identifies itself, so the answer is the one the server gives that client.
        sdk = {
            "X-Stainless-Lang": "python",
            "X-Stainless-Async": "async:asyncio" if "async" in aspect else "false",
        }
        return (t.chat_stream(chat, headers=sdk),), {}
    if area == "transport":
        return (t.get("models"),), {}
    raise AssertionError(f"no scenario for {check_id}")


def governance_scenario(
    check_id: str, server: LivePersona, t: Target
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The exchanges (and context) of a `governance.*` check, against the Inferbase persona."""
    aspect = check_id.removeprefix("governance.")
    chat = {"messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 4}
    health_path = f"/models/{CHAT_MODEL}/health"
    with httpx.Client(
        base_url=server.root_url, headers={"X-Admin-Key": server.admin_key}, timeout=10
    ) as admin:

        def model_status(status: str) -> None:
            admin.put(f"/admin/models/{CHAT_MODEL}/status", json={"status": status}).raise_for_status()

        if aspect == "health.schema":
            return (t.get("health", health_path, auth=False),), {}
        if aspect in ("health.loading", "cold-start.retry-after"):
            model_status("loading")
            try:
                ex = t.get("health", health_path, auth=False) if aspect == "health.loading" else t.chat(chat)
            finally:
                model_status("ready")
            return (ex,), {}
        if aspect == "rate-limit.headers":
            limited = admin.post("/admin/keys", json={"credit_micros": 10**9, "rate_limit": "2/minute"})
            key = limited.json()["key"]
            return ([t.chat(chat, auth=key) for _ in range(3)][-1],), {}
        if aspect.startswith("keys."):
            created = t.request(
                "keys", "POST", "/keys", json={"name": f"faults-{aspect}-{time.monotonic_ns()}"}
            )
            raw = created.json.get("key") if isinstance(created.json, dict) else None
            if aspect == "keys.create":
                return (created, t.chat(chat, auth=raw or "wrong")), {"key_prefix": t.profile.key_prefix}
            if aspect == "keys.list":
                return (t.get("keys", "/keys"),), {"key_id": created.json["id"], "raw_key": raw}
            revoked = t.request("key", "DELETE", f"/keys/{created.json['id']}")
            wanted = t.profile.expected_status("revoked-key")
            return (revoked, t.chat(chat, auth=raw)), {"expected_status": wanted}
        if aspect == "credits.debited":
            before = t.get("credits", "/credits")
            t.chat(chat)
            return (before, t.get("credits", "/credits")), {}
        served = t.chat(chat)
        if aspect == "credits.transactions":
            return (t.get("credit_transactions", "/credits/transactions"),), {}
        if aspect == "usage.logged":
            context = {
                "request_id": served.headers.get("x-request-id"),
                "total_tokens": served.json["usage"]["total_tokens"],
            }
            return (t.get("usage", "/usage"),), context
    raise AssertionError(f"no governance scenario for {check_id}")


def live_scenario(
    check_id: str, request: pytest.FixtureRequest, *fault_ids: str
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Serve `check_id`'s scenario with `fault_ids` active (the governance checks on the persona)."""
    governance = check_id.startswith("governance.")
    server, target = request.getfixturevalue("governed" if governance else "live")
    server.use(*fault_ids)
    try:
        return governance_scenario(check_id, server, target) if governance else scenario(check_id, target)
    finally:
        server.use()


def _error_scenario(aspect: str, t: Target, chat: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    path = "/chat/completions"
    json_header = {"Content-Type": "application/json"}
    if aspect == "status.no-key":
        return (t.chat(chat, auth=False),), {}
    if aspect == "status.bad-key":
        return (t.chat(chat, auth="wrong"),), {}
    if aspect in ("status.unknown-model", "envelope"):
        return (t.chat({**chat, "model": "no-such-model"}),), {}
    if aspect in ("status.malformed-json", "no-5xx-for-client-error"):
        return (t.request("chat", "POST", path, content=b'{"model": ', headers=json_header),), {}
    if aspect == "status.wrong-content-type":
        return (t.request("chat", "POST", path, content=b"{}", headers={"Content-Type": "text/plain"}),), {}
    if aspect in ("status.invalid-param", "param.named"):
        return (t.chat({**chat, "temperature": 5}),), {
            "param": "temperature"
        } if aspect == "param.named" else {}
    if aspect == "status.unknown-path":
        return (t.get("chat", "/no-such-path"),), {}
    if aspect == "status.wrong-method":
        return (t.get("chat", path),), {}
    if aspect == "status.oversized-body":
        return (t.request("chat", "POST", path, content=b" " * (5 * 1024 * 1024), headers=json_header),), {}
    raise AssertionError(f"no error scenario for errors.{aspect}")


def _skip_unrunnable(check_id: str) -> None:
    if check_id == "clients.node-sdk.parse" and node_sdk_unavailable():
        pytest.skip(node_sdk_unavailable())


@pytest.mark.parametrize("check_id", sorted(registry()))
def test_check_passes_against_the_healthy_server(check_id: str, request: pytest.FixtureRequest) -> None:
    _skip_unrunnable(check_id)
    exchanges, ctx = live_scenario(check_id, request)
    outcome = run(check_id, *exchanges, **ctx)
    assert outcome.passed, f"{check_id} fails against the healthy reference server: {outcome.message}"


FAULTS = sorted(catalog().values(), key=lambda f: (f.check, f.id))


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
def test_fault_makes_its_check_fail(fault: Any, request: pytest.FixtureRequest) -> None:
    _skip_unrunnable(fault.check)
    if fault.batch_stream and "batch_stream" not in inspect.getsource(app_module):
        pytest.xfail("reference_server/app.py does not honour FaultSet.batch_stream yet")
    exchanges, ctx = live_scenario(fault.check, request, fault.id)
    outcome = run(fault.check, *exchanges, **ctx)
    assert not outcome.passed, f"fault {fault.id} does not make {fault.check} fail"
