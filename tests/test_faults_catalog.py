"""The fault catalogue against the check registry, and every fault proven against the reference server.

Static: check ids are unique and well formed, every check has a fault, every fault names a
registered check. Live: the reference server (scripted engine, real loopback socket) serves the
scenarios the registry says prove each check (compat_suite.scenarios.proving); healthy, the check
passes on every proof of it; with each of its faults, it fails on at least one. The `governance.*`
checks need the gateway's endpoints, so theirs run against the Inferbase persona (the persona that
documents keys, credits, usage and model health), its admin API making the states.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import uvicorn

from compat_suite.checks import Outcome, registry, run
from compat_suite.checks.clients import node_sdk_unavailable
from compat_suite.scenarios import AdminAPI, Context, Proof, proving
from compat_suite.target import NotApplicable, Target
from reference_server.app import create_app
from reference_server.engines.scripted import ScriptedEngine
from reference_server.faults import FaultSet, catalog
from reference_server.gateway import Gateway
from reference_server.personas import load_persona, seed_key
from schemas import load_profile

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
def live() -> Iterator[tuple[LiveServer, Context]]:
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
            yield server, Context(target)
        finally:
            target.close()


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LivePersona, Context]]:
    with LivePersona(tmp_path_factory.mktemp("gateway") / "gateway.db") as server:
        target = Target(
            base_url=server.base_url,
            api_key=server.key,
            profile=load_profile("inferbase"),
            model=CHAT_MODEL,
            timeout_s=10.0,
        )
        admin = AdminAPI(server.root_url, server.admin_key)
        try:
            yield server, Context(target, admin=admin)
        finally:
            admin.close()
            target.close()


def proofs_of(check_id: str, context: Context) -> list[Proof]:
    """Every proof of `check_id` that the scenarios proving it yield against `context`'s target
    (a scenario that finds something it needs missing yields what it made until then). Each call
    starts with nothing shared: what a session shares (SDK records, raw answers) came from other faults."""
    context = replace(context, memo={})
    found = []
    for scenario in proving(check_id):
        for _, case in scenario.runs():
            try:
                for made in scenario(context.with_case(case)):
                    found += [made] if check_id in made.checks else []
            except NotApplicable:
                continue
    return found


def live_outcomes(check_id: str, request: pytest.FixtureRequest, *fault_ids: str) -> list[Outcome]:
    """`check_id` on every proof of it, served with `fault_ids` active (the governance checks on the persona)."""
    governance = check_id.startswith("governance.")
    server, context = request.getfixturevalue("governed" if governance else "live")
    server.use(*fault_ids)
    try:
        found = proofs_of(check_id, context)
    finally:
        server.use()
    assert found, f"no scenario proves {check_id} against this server"
    return [run(check_id, *p.exchanges, endpoint=p.endpoint, **p.context_of(check_id)) for p in found]


def _fail_unrunnable(check_id: str) -> None:
    if check_id == "clients.node-sdk.parse" and node_sdk_unavailable():
        pytest.fail(f"the Node SDK check cannot run here: {node_sdk_unavailable()}", pytrace=False)


@pytest.mark.parametrize("check_id", sorted(registry()))
def test_check_passes_against_the_healthy_server(check_id: str, request: pytest.FixtureRequest) -> None:
    _fail_unrunnable(check_id)
    failed = [o.message for o in live_outcomes(check_id, request) if not o.passed and not o.unjudged]
    assert not failed, f"{check_id} fails against the healthy reference server: {failed[0]}"


FAULTS = sorted(catalog().values(), key=lambda f: (f.check, f.id))


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
def test_fault_makes_its_check_fail(fault: Any, request: pytest.FixtureRequest) -> None:
    _fail_unrunnable(fault.check)
    outcomes = live_outcomes(fault.check, request, fault.id)
    failed = [o for o in outcomes if not o.passed and not o.unjudged]  # a failure, not "nothing to judge"
    assert failed, f"fault {fault.id} does not make {fault.check} fail"
