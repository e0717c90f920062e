"""Personas: each provider's documented surface over the shared app, and the suite run against it.

Fast tests drive each persona in process (ASGI). The slow ones start `compat-suite serve --persona
NAME` (scripted engine) and run `compat-suite run` against it: under the provider's own profile the
run passes; under `openai` every failure is a deviation the provider's profile documents, with its
citation, and the HTML report shows each citation.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from _repo import REPO_ROOT

from reference_server.engines.scripted import ScriptedEngine
from reference_server.gateway import Gateway
from reference_server.personas import PERSONA_NAMES, load_persona, seed_key
from schemas import DEFAULT_STATUSES, Profile, load_profile

PROVIDERS = ("carrot", "carpathian", "karta", "inferbase")
ADMIN_KEY = "adm_personas_test_0000"
CHAT = {"messages": [{"role": "user", "content": "hello"}], "max_tokens": 4}
MODEL = "scripted-chat"


class Persona:
    """One persona in process: its app, a funded key, and the admin header."""

    def __init__(self, name: str, tmp: Path) -> None:
        self.spec = load_persona(name)
        self.engine = ScriptedEngine()
        self.gateway = Gateway(tmp / f"{name}.db", self.spec.gateway_config(ADMIN_KEY))
        self.key = self.spec.gateway.key_prefix + "test_key_0123456789"
        seed_key(self.gateway, self.spec, self.key, model=MODEL)
        self.app = self.spec.build(self.engine, self.gateway)
        self.auth = {"Authorization": f"Bearer {self.key}"}
        self.base = self.spec.base_path


@pytest_asyncio.fixture
async def open_persona(tmp_path: Path) -> AsyncIterator[Any]:
    opened: list[Persona] = []

    async def open_(name: str) -> tuple[Persona, httpx.AsyncClient]:
        persona = Persona(name, tmp_path)
        opened.append(persona)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=persona.app), base_url="http://persona.test"
        )
        clients.append(client)
        return persona, client

    clients: list[httpx.AsyncClient] = []
    yield open_
    for client in clients:
        await client.aclose()
    for persona in opened:
        persona.gateway.close()


def test_registry_names_every_persona_and_refuses_others() -> None:
    assert set(PROVIDERS) <= set(PERSONA_NAMES)
    for name in PERSONA_NAMES:
        persona = load_persona(name)
        assert persona.name == name and load_profile(persona.profile).name == name
    with pytest.raises(ValueError, match="available"):
        load_persona("nope")


@pytest.mark.parametrize("name", PROVIDERS)
def test_persona_matches_its_profile(name: str) -> None:
    """Base path, key prefix and the statuses the gateway gives agree with the profile."""
    persona, profile = load_persona(name), load_profile(name)
    assert re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", profile.base_path), persona.base_path)
    assert persona.gateway.key_prefix == profile.key_prefix
    assert persona.gateway.revoked_status == profile.expected_status("revoked-key")
    assert persona.gateway.cold_start_status == profile.expected_status("cold-start")
    assert persona.bind_keys_to_model == (profile.model_rule in ("bound", "optional"))


@pytest.mark.asyncio
async def test_carpathian_routes_every_documented_shape_and_binds_the_key(open_persona: Any) -> None:
    persona, client = await open_persona("carpathian")
    for path in ("/ai/v1/chat/completions", "/ai/chat/completions", "/ai/chat", "/ai/v1", "/ai/v1/completions",
                 "/ai/v1/chat/completions/chat/completions"):  # fmt: skip
        response = await client.post(path, headers=persona.auth, json={**CHAT, "model": "default"})
        assert response.status_code == 200, (path, response.text)
        assert response.json()["object"] == "chat.completion" and response.json()["model"] == MODEL
    assert (await client.post("/ai/v1/chat/completions", headers=persona.auth, json=CHAT)).status_code == 200
    other = await client.post(
        "/ai/v1/chat/completions", headers=persona.auth, json={**CHAT, "model": "gpt-4o"}
    )
    assert other.status_code == 404 and other.json()["error"]["code"] == "model_not_found"
    for path in ("/ai/v1/models", "/ai/models", "/ai/v1/chat/completions/models"):
        listing = await client.get(path, headers=persona.auth)
        assert [m["id"] for m in listing.json()["data"]] == [MODEL], path  # the key's one model
    assert (await client.post("/ai/v1/embeddings", headers=persona.auth, json={})).status_code == 404
    wrong = await client.get("/ai/v1/chat/completions", headers=persona.auth)
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
    assert (await client.post("/ai/v1/chat/completions", json=CHAT)).status_code == 401


@pytest.mark.asyncio
async def test_carpathian_answers_a_stream_request_at_once(open_persona: Any) -> None:
    persona, client = await open_persona("carpathian")
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    response = await client.post("/ai/v1/chat/completions", headers=persona.auth, json=body)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert response.json()["object"] == "chat.completion" and response.json()["usage"]["total_tokens"] > 0


@pytest.mark.asyncio
async def test_karta_shapes_unary_stream_and_statuses(open_persona: Any) -> None:
    persona, client = await open_persona("karta")
    url = "/v1/projects/any-project/chat/completions"
    unary = await client.post(url, headers=persona.auth, json=CHAT)  # no model: the project's
    payload = unary.json()
    assert unary.status_code == 200 and payload["object"] == "text_completion"
    assert set(payload["usage"]) == {"input_tokens", "output_tokens", "total_tokens"}
    assert (
        payload["usage"]["total_tokens"]
        == payload["usage"]["input_tokens"] + payload["usage"]["output_tokens"]
    )
    assert "logprobs" not in payload["choices"][0]
    streamed = await client.post(url, headers=persona.auth, json={**CHAT, "stream": True})
    frames = [f for f in streamed.text.split("\n\n") if f]
    assert frames[-1] == "event: [DONE]\ndata: [DONE]"
    for frame in frames[:-1]:
        event, data = frame.split("\n")
        assert event == "event: chunk"
        chunk = json.loads(data.removeprefix("data: "))
        assert set(chunk) == {"choices"} and set(chunk["choices"][0]) == {"delta"}
    assert len(frames) > 2
    bad = await client.post(url, headers={**persona.auth, "content-type": "application/json"}, content=b"{")
    assert bad.status_code == 422 and "error" in bad.json()
    assert (await client.post(url, json=CHAT)).status_code == 401
    assert (await client.post("/v1/chat/completions", headers=persona.auth, json=CHAT)).status_code == 404


@pytest.mark.asyncio
async def test_inferbase_public_models_health_and_gateway_endpoints(open_persona: Any) -> None:
    persona, client = await open_persona("inferbase")
    base = persona.base
    listing = await client.get(f"{base}/models")  # no key
    assert listing.status_code == 200
    assert all(set(m) == {"id", "object", "owned_by"} for m in listing.json()["data"])
    assert (await client.get(f"{base}/models/{MODEL}/health")).json() == {"model": MODEL, "status": "ready"}
    await client.put(
        f"/admin/models/{MODEL}/status", headers={"X-Admin-Key": ADMIN_KEY}, json={"status": "loading"}
    )
    assert (await client.get(f"{base}/models/{MODEL}/health")).json()["status"] == "loading"
    cold = await client.post(f"{base}/chat/completions", headers=persona.auth, json={**CHAT, "model": MODEL})
    assert cold.status_code == 502 and "retry-after" in cold.headers
    await client.put(
        f"/admin/models/{MODEL}/status", headers={"X-Admin-Key": ADMIN_KEY}, json={"status": "ready"}
    )
    created = (await client.post(f"{base}/keys", headers=persona.auth, json={"name": "ci"})).json()
    assert created["key"].startswith("inf_")
    assert created["key"] not in (await client.get(f"{base}/keys", headers=persona.auth)).text
    await client.delete(f"{base}/keys/{created['id']}", headers=persona.auth)
    revoked = await client.post(
        f"{base}/chat/completions",
        headers={"Authorization": f"Bearer {created['key']}"},
        json={**CHAT, "model": MODEL},
    )
    assert revoked.status_code == 403
    asked = {**CHAT, "model": MODEL, "logprobs": True, "top_logprobs": 2}  # not among its documented fields
    answer = await client.post(f"{base}/chat/completions", headers=persona.auth, json=asked)
    assert answer.status_code == 200 and all("logprobs" not in c for c in answer.json()["choices"])
    for path in ("credits", "credits/transactions", "usage"):
        assert (await client.get(f"{base}/{path}", headers=persona.auth)).status_code == 200, path
    assert (await client.post(f"{base}/embeddings", headers=persona.auth, json={})).status_code == 404


@pytest.mark.asyncio
async def test_carrot_exact_model_names_trace_and_openai_defaults(open_persona: Any) -> None:
    persona, client = await open_persona("carrot")
    headers = {**persona.auth, "X-Carrot-Trace": "true"}
    ok = await client.post("/v1/chat/completions", headers=headers, json={**CHAT, "model": MODEL})
    assert ok.status_code == 200 and ok.headers["x-trace-id"].startswith("trace_")
    trace = await client.get(f"/v1/traces/{ok.headers['x-trace-id']}", headers=persona.auth)
    assert trace.status_code == 200 and persona.key not in trace.text
    mismatched = await client.post(
        "/v1/chat/completions", headers=persona.auth, json={**CHAT, "model": "Scripted-Chat"}
    )
    assert mismatched.status_code == 404
    assert (await client.get("/v1/models", headers=persona.auth)).status_code == 404  # not documented
    broke = (await client.post("/admin/keys", headers={"X-Admin-Key": ADMIN_KEY}, json={})).json()["key"]
    spent = await client.post(
        "/v1/chat/completions", headers={"Authorization": f"Bearer {broke}"}, json={**CHAT, "model": MODEL}
    )
    assert (
        spent.status_code == 429 and spent.json()["error"]["code"] == "insufficient_quota"
    )  # OpenAI's answer


# -- the suite against `compat-suite serve --persona NAME` ---------------------------------------------
def serve(name: str, tmp: Path) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "compat_suite", "serve", "--persona", name, "--engine", "scripted",
               "--port", "0", "--admin-key", ADMIN_KEY, "--gateway-db", str(tmp / "gw.db"), "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        if "ready at " in line:
            return process, line.split("ready at ", 1)[1].strip()
    process.kill()
    raise RuntimeError(f"persona {name} did not start")


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, str, str]]:
    name = request.param
    process, base_url = serve(name, tmp_path)
    try:
        root = re.match(r"https?://[^/]+", base_url).group(0)
        options: dict[str, Any] = {"credit_micros": 10**12, "rate_limit": "1000000/minute"}
        if load_persona(name).bind_keys_to_model:
            options["model"] = MODEL
        key = httpx.post(
            f"{root}/admin/keys", headers={"X-Admin-Key": ADMIN_KEY}, json=options, timeout=10
        ).json()["key"]
        yield name, base_url, key
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def run_suite(base_url: str, key: str, profile: str, report_dir: Path) -> tuple[int, dict[str, Any], str]:
    command = [sys.executable, "-m", "compat_suite", "run", "--base-url", base_url,
               "--model", MODEL, "--embedding-model", "scripted-embed", "--profile", profile,
               "--report-dir", str(report_dir), "--timeout", "30", "-q"]  # fmt: skip
    # Keys through the environment, as users should pass them; the admin key makes the governance states.
    env = {**os.environ, "COMPAT_API_KEY": key, "COMPAT_ADMIN_KEY": ADMIN_KEY}
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    results = (
        json.loads((report_dir / "results.json").read_text())
        if (report_dir / "results.json").exists()
        else {}
    )
    return done.returncode, results, done.stdout[-3000:] + done.stderr[-3000:]


def documented(provider: Profile, finding: dict[str, Any]) -> str | None:
    """The provider profile's citation for a failure under `openai`, or None if it documents none."""
    check, endpoint = finding["check"], finding.get("endpoint")
    expectation = provider.expectation(check, endpoint)
    if expectation is not None and expectation.cite:
        return expectation.cite  # an explicit deviation, an absent endpoint, an endpoint without auth
    if check.startswith("errors.status."):
        return status_cite(provider, check.removeprefix("errors.status."), endpoint)
    test = finding.get("test") or ""
    if endpoint in provider.public_endpoints and re.search(r"-(no|bad)-key\]", test):
        return provider.endpoint(endpoint).cite  # an error-matrix key cell on an endpoint that needs no key
    if "missing-required" in test and provider.model_rule != "required":
        return (provider.raw.get("model") or {}).get("cite")  # served without a model: bound or optional
    return None


def status_cite(
    provider: Profile, condition: str, endpoint: str | None, status: int | None = None
) -> str | None:
    """Where the provider documents the status `condition` gets on `endpoint` (when it is not OpenAI's)."""
    if endpoint in provider.absent_endpoints:
        return provider.absent_endpoints[endpoint].cite
    if condition in ("no-key", "bad-key") and endpoint in provider.public_endpoints:
        return provider.endpoint(endpoint).cite
    rule = provider.status_rule(condition)
    if rule.documented and rule.status != DEFAULT_STATUSES[condition] and status in (None, rule.status):
        return rule.cite
    return None


@pytest.mark.slow
@pytest.mark.parametrize("served", PROVIDERS, indirect=True)
def test_suite_passes_under_the_providers_own_profile(served: tuple[str, str, str], tmp_path: Path) -> None:
    name, base_url, key = served
    rc, results, output = run_suite(base_url, key, name, tmp_path / "own")
    failed = [f"{f['check']} ({f['endpoint']}): {f['message'][:200]}" for f in results.get("findings", [])
              if f["verdict"] in ("fail", "drift")]  # fmt: skip
    failed += [f"matrix {r['endpoint']}-{r['condition']}: {r['status']} != {r['expected_status']}"
               for r in results.get("error_matrix", []) if r.get("verdict") == "fail"]  # fmt: skip
    assert rc == 0 and not failed, f"{name} under its own profile:\n" + "\n".join(failed) + "\n" + output


@pytest.mark.slow
@pytest.mark.parametrize("served", PROVIDERS, indirect=True)
def test_openai_profile_reports_exactly_the_documented_deviations(
    served: tuple[str, str, str], tmp_path: Path
) -> None:
    name, base_url, key = served
    provider = load_profile(name)
    rc, results, output = run_suite(base_url, key, "openai", tmp_path / "openai")
    assert rc == 1, output  # the provider departs from OpenAI somewhere: the strict run fails
    cites, undocumented = set(), []
    for finding in results["findings"]:
        if finding["verdict"] not in ("fail", "drift"):
            continue
        cite = documented(provider, finding)
        if cite is None:
            undocumented.append(f"{finding['check']} ({finding['endpoint']}): {finding['message'][:200]}")
        else:
            cites.add(cite)
    for row in results["error_matrix"]:
        if row.get("verdict") == "fail":
            cite = status_cite(provider, row["condition"], row["endpoint"], row["status"])
            if cite:
                cites.add(cite)
            else:
                undocumented.append(f"matrix {row['endpoint']}-{row['condition']}: {row['status']}")
    assert not undocumented, (
        f"{name} under openai fails where {name}'s profile documents nothing:\n" + "\n".join(undocumented)
    )
    assert cites, "no documented deviation was observed"
    html = (tmp_path / "openai" / "index.html").read_text(encoding="utf-8")
    own = [c for c in cites if c in {f.get("cite") for f in results["findings"]}]
    for cite in own:  # each finding's citation is in the report, as the report escapes it
        assert _html_escape(cite) in html or cite in html, cite


def _html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)
