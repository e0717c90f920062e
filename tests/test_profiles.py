"""Provider profiles: each loads and validates, every key names a check, every citation is exact,
the documented facts are in the data, the verdict logic holds, and each provider's own documented
examples, run through the checks, fail exactly the checks its profile lists as deviations.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from _check_cases import CHAT, choice0, with_

import schemas
from compat_suite.checks import PYTHON_CLIENTS, registry, response_shape, run, stream_checks
from compat_suite.exchange import Exchange, RecordedRequest, StreamExchange
from compat_suite.sse import SSEReader
from schemas import (
    CONDITIONS,
    DEFAULT_STATUSES,
    SCHEMA_FILE,
    Citation,
    Expectation,
    Profile,
    ProfileError,
    available_profiles,
    load_profile,
    shared_docs_dir,
    verify_citations,
)

PROVIDERS = ["openai", "carrot", "carpathian", "karta", "inferbase"]

# The canonical check ids (the checks colleague registers these, and may add more). An expectation
# key must be registered, or, until it is, in this list.
CANONICAL_CHECKS = frozenset(
    """
    chat.response.schema chat.response.object chat.response.id chat.response.created chat.usage.present
    chat.usage.sum chat.finish-reason.enum chat.n.indexed chat.max-tokens.respected chat.stop.honoured
    chat.seed.determinism chat.logprobs.valid chat.response-format.json
    completions.response.schema completions.response.object completions.response.id
    completions.response.created completions.usage.present completions.usage.sum
    completions.finish-reason.enum completions.n.indexed completions.max-tokens.respected
    completions.stop.honoured completions.seed.determinism completions.echo.prefix
    embeddings.response.schema embeddings.response.object embeddings.usage.present
    embeddings.dimensions.consistent embeddings.order.index embeddings.base64.equals-float
    embeddings.dimensions.param
    models.list.schema models.list.contains-model models.retrieve.schema
    stream.content-type stream.chunk.schema stream.chunk.object stream.id.consistent
    stream.created.consistent stream.role.first stream.finish-reason.once-last stream.usage.final-chunk
    stream.usage.null-elsewhere stream.done-terminator stream.sse.utf8 stream.sse.blank-line
    stream.sse.json-data stream.sse.after-done stream.sse.complete stream.text.matches-unary
    stream.error.event stream.is-streamed
    errors.envelope errors.status.no-key errors.status.bad-key errors.status.unknown-model
    errors.status.malformed-json errors.status.wrong-content-type errors.status.invalid-param
    errors.status.unknown-path errors.status.wrong-method errors.status.oversized-body errors.param.named
    errors.no-5xx-for-client-error
    clients.python-sdk.parse clients.python-async-sdk.parse clients.node-sdk.parse
    transport.complete transport.json-body
    """.split()
)

# What the suites run on one exchange of each kind (suites/conformance, suites/streaming).
UNARY_CHECKS = {
    endpoint: [*response_shape(endpoint), *PYTHON_CLIENTS]
    for endpoint in ("chat", "completions", "embeddings", "models")
}
STREAM_CHECKS = [*stream_checks("chat"), "stream.is-streamed", *PYTHON_CLIENTS]
INCLUDE_USAGE = {"stream_options": {"include_usage": True}}  # the stream suites always ask for usage
URLS = {"chat": "http://doc.invalid/v1/chat/completions", "models": "http://doc.invalid/v1/models"}


@pytest.fixture(scope="module")
def profiles() -> dict[str, Profile]:
    return {name: load_profile(name) for name in PROVIDERS}


@pytest.fixture(scope="module")
def docs_root() -> Path:
    root = shared_docs_dir()
    if root is None:
        pytest.skip(
            "the provider docs (../shared beside the checkout) are not here; citations cannot be read"
        )
    return root


# -- loading -----------------------------------------------------------------------------------------
def test_the_five_profiles_are_available() -> None:
    assert set(PROVIDERS) <= set(available_profiles())
    assert "profile.schema" not in available_profiles()


@pytest.mark.parametrize("name", PROVIDERS)
def test_profile_loads_and_names_itself(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.base_path.startswith("/")
    assert profile.docs, "a profile lists the documents it is built from"
    assert profile.declares("chat")


def test_load_by_path_equals_load_by_name(tmp_path: Path) -> None:
    copy = tmp_path / "karta.yaml"
    copy.write_text((SCHEMA_FILE.parent / "karta.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_profile(str(copy)) == load_profile("karta")


def test_the_schema_is_a_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8")))


# -- bad profiles: a clear error naming the file and the field ----------------------------------------
GOOD = """
provider: demo
docs: [demo.txt]
base_path: /v1
endpoints:
  chat: /chat/completions
"""


def _write(tmp_path: Path, text: str, name: str = "demo.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def test_a_minimal_profile_loads_with_openai_defaults(tmp_path: Path) -> None:
    profile = load_profile(_write(tmp_path, GOOD))
    assert profile.model_rule == "required"
    assert profile.streaming_supported
    assert profile.expected_status("unknown-model") == 404
    assert profile.expectation("chat.response.object") is None


@pytest.mark.parametrize(
    ("extra", "field", "why"),
    [
        ("model: sometimes\n", "model", "sometimes"),
        (
            "expectations:\n  chat.response.object: {expected: deviation, cite: 'demo.txt:1 \"x\"'}\n",
            "expectations.[chat.response.object]",
            "observed",
        ),
        (
            "expectations:\n  chat.response.object: {expected: deviation, observed: x, cite: 'demo.txt line 1'}\n",
            "expectations.[chat.response.object].cite",
            "does not match",
        ),
        (
            "expectations:\n  chat.response.object: {expected: maybe, observed: x, cite: 'demo.txt:1 \"x\"'}\n",
            "expectations.[chat.response.object].expected",
            "maybe",
        ),
        ("error_matrix:\n  teapot: {status: 418, basis: convention, note: x}\n", "error_matrix", "teapot"),
        ("error_matrix:\n  no-credit: {status: 402, basis: documented}\n", "error_matrix.no-credit", "cite"),
        ("streaming: {supported: contradicted}\n", "streaming", "claims"),
        ("endpoint: {chat: /x}\n", "(top level)", "endpoint"),
        ("endpoints:\n  chat: chat/completions\n", "endpoints.chat", "chat/completions"),
    ],
)
def test_a_bad_profile_names_file_and_field(tmp_path: Path, extra: str, field: str, why: str) -> None:
    text = (
        GOOD.replace("endpoints:\n  chat: /chat/completions\n", "") if extra.startswith("endpoints") else GOOD
    )
    with pytest.raises(ProfileError) as err:
        load_profile(_write(tmp_path, text + extra))
    message = str(err.value)
    assert message.startswith("demo.yaml: ")
    assert f"{field}: " in message
    assert why in message


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ("absent_endpoints:\n  chat: {reason: gone}\n", "also in endpoints"),
        (
            "expectations:\n  clients.python-sdk.parse:\n"
            "    {expected: deviation, observed: x, endpoints: [models], cite: 'demo.txt:1 \"x\"'}\n",
            "not in endpoints",
        ),
        (
            "statuses:\n  402: {meaning: budget, cite: 'demo.txt:1 \"x\"', conditions: [no-credit]}\n"
            "error_matrix:\n  no-credit: {status: 429, basis: convention, note: x}\n",
            "statuses.402.conditions",
        ),
        ("notes: [{text: x, cite: 'other.txt:1 \"x\"'}]\n", "not listed in docs"),
    ],
)
def test_a_profile_that_contradicts_itself_is_refused(tmp_path: Path, extra: str, why: str) -> None:
    with pytest.raises(ProfileError, match=why):
        load_profile(_write(tmp_path, GOOD + extra))


def test_not_yaml_and_not_a_mapping_and_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"demo\.yaml: not valid YAML"):
        load_profile(_write(tmp_path, "provider: [demo\n"))
    with pytest.raises(ProfileError, match="a profile is a mapping"):
        load_profile(_write(tmp_path, "- demo\n"))
    with pytest.raises(ProfileError, match=r"available: .*openai"):
        load_profile("no-such-provider")


def test_a_built_in_profile_must_name_itself_after_its_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import schemas._profile_loader as profiles_module

    monkeypatch.setattr(profiles_module, "PROFILES_DIR", tmp_path)
    _write(tmp_path, GOOD, name="other.yaml")
    with pytest.raises(ProfileError, match="provider: 'demo' must match the file name 'other'"):
        profiles_module.load_profile("other")


# -- every key is a check id; every citation is exact --------------------------------------------------
@pytest.mark.parametrize("name", PROVIDERS)
def test_every_expectation_names_a_check(name: str) -> None:
    profile = load_profile(name)
    registered = registry()
    for check_id, exp in profile.expectations.items():
        check = registered.get(check_id)
        if check is None:
            assert check_id in CANONICAL_CHECKS, f"{name}: expectations.{check_id} is not a check id"
            continue
        runs_on = set(check.endpoints) & set(profile.endpoints)
        assert runs_on, f"{name}: {check_id} never runs here (its endpoints: {check.endpoints})"
        assert set(exp.endpoints) <= set(check.endpoints), (
            f"{name}: {check_id} does not run on {exp.endpoints}"
        )


def test_the_canonical_ids_are_registered() -> None:
    """Once the registry has them all, it is the source of truth; until then the list above is."""
    missing = CANONICAL_CHECKS - set(registry())
    if missing:
        pytest.skip(f"not registered yet: {sorted(missing)}")


@pytest.mark.parametrize("name", PROVIDERS)
def test_every_citation_is_exact(name: str, docs_root: Path) -> None:
    profile = load_profile(name)
    assert profile.citations(), f"{name} cites nothing"
    assert verify_citations(profile, docs_root) == []


def test_a_wrong_line_or_quote_is_caught(tmp_path: Path) -> None:
    (tmp_path / "provider-docs").mkdir()
    (tmp_path / "provider-docs" / "demo.txt").write_text("first line\nsecond line\n", encoding="utf-8")
    assert Citation.parse('demo.txt:2 "second"').problem(tmp_path) is None
    assert "not on that line" in Citation.parse('demo.txt:1 "second"').problem(tmp_path)
    assert "has 2 lines" in Citation.parse('demo.txt:9 "second"').problem(tmp_path)
    assert "no such document" in Citation.parse('gone.txt:1 "x"').problem(tmp_path)
    quoted = Citation.parse('demo.txt:3 ""object": "text_completion","')
    assert quoted.quote == '"object": "text_completion",'
    with pytest.raises(ValueError, match="not a citation"):
        Citation.parse("demo.txt line 2")


@pytest.mark.parametrize("name", PROVIDERS)
def test_every_entry_is_cited(name: str) -> None:
    """Every expectation, documented status, absence and alias carries its citation."""
    profile = load_profile(name)
    assert all(exp.cite for exp in profile.expectations.values())
    assert all(row.cite for row in profile.statuses.values())
    assert all(a.cite for a in profile.absent_endpoints.values())
    assert all(spec.cite or spec.note for spec in profile.endpoint_specs.values())
    for cond, rule in profile.error_matrix.items():
        assert rule.basis in ("undocumented", "convention") or rule.cite, f"{name}: error_matrix.{cond}"


# -- the error matrix --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PROVIDERS)
def test_the_error_matrix_covers_every_condition(name: str) -> None:
    assert set(load_profile(name).error_matrix) == set(CONDITIONS)


def test_the_openai_matrix_is_the_default(profiles: dict[str, Profile]) -> None:
    openai = profiles["openai"]
    assert {c: r.status for c, r in openai.error_matrix.items()} == DEFAULT_STATUSES
    assert openai.status_deviations() == {}
    assert openai.status_rule("rate-limited").basis == "documented"
    undocumented_by_openai = [c for c, r in openai.error_matrix.items() if r.basis == "convention"]
    assert all(openai.error_matrix[c].note for c in undocumented_by_openai)


def test_expected_status_rules(profiles: dict[str, Profile]) -> None:
    carpathian, karta, inferbase = profiles["carpathian"], profiles["karta"], profiles["inferbase"]
    assert carpathian.expected_status("no-credit") == 402  # documented
    assert carpathian.expected_status("malformed-json") == 400  # undocumented: OpenAI's applies
    assert carpathian.status_rule("malformed-json").basis == "undocumented"
    assert carpathian.expected_status("unknown-model") is None  # not applicable: the key decides
    assert karta.expected_status("invalid-param") == 422  # inferred from its status list
    assert karta.status_rule("invalid-param").basis == "inferred"
    assert inferbase.expected_status("revoked-key") == 403
    assert inferbase.expected_status("no-key", "chat") == 401
    assert inferbase.expected_status("no-key", "models") is None  # models needs no key
    assert inferbase.status_rule("revoked-key", "health").basis == "not-applicable"
    assert inferbase.status_rule("no-key", "health").cite == inferbase.endpoint("health").cite
    assert inferbase.expected_status("teapot") is None
    with pytest.raises(KeyError, match="unknown error-matrix condition"):
        inferbase.status_rule("teapot")


# -- the documented facts (issue 4), claim by claim -----------------------------------------------------
def test_openai_is_the_strict_default(profiles: dict[str, Profile]) -> None:
    openai = profiles["openai"]
    assert openai.endpoints == {
        "chat": "/chat/completions",
        "completions": "/completions",
        "embeddings": "/embeddings",
        "models": "/models",
        "model": "/models/{model}",
        "responses": "/responses",
    }
    assert not openai.declares("health")  # our extension, not OpenAI's
    assert (openai.model_rule, openai.key_prefix, openai.base_path) == ("required", "sk-", "/v1")
    assert openai.expectations == {} and openai.extensions == () and openai.absent_endpoints == {}
    assert openai.streaming.framing == "openai" and openai.streaming_supported


def test_carrot_facts(profiles: dict[str, Profile]) -> None:
    carrot = profiles["carrot"]
    assert carrot.base_path == "/v1" and carrot.key_prefix == "sk-" and carrot.model_rule == "required"
    assert set(carrot.endpoints) == {"chat", "completions", "embeddings"}
    assert set(carrot.absent_endpoints) == {"models", "model", "responses"}
    assert carrot.model_case_sensitive is True
    assert carrot.headers["X-Carrot-Trace"]["value"] == "true"
    assert {code: row.conditions for code, row in carrot.statuses.items()} == {
        401: ("no-key", "bad-key"),
        404: ("unknown-model",),
        502: ("cold-start",),
    }
    assert carrot.expectations == {}


def test_carpathian_facts(profiles: dict[str, Profile]) -> None:
    carpathian = profiles["carpathian"]
    assert carpathian.base_path == "/ai/v1" and carpathian.key_prefix == "cai_"
    assert (carpathian.model_rule, carpathian.model_default_name) == ("bound", "default")
    assert set(carpathian.base_path_aliases) == {"/ai", "/ai/v1/chat/completions"}
    assert set(carpathian.endpoint("chat").aliases) == {
        "/ai/chat/completions",
        "/ai/chat",
        "/ai/v1",
        "/ai/v1/completions",
    }
    assert set(carpathian.endpoints) == {"chat", "models"}
    assert carpathian.streaming_contradicted and carpathian.streaming_supported  # tested, not skipped
    assert {c.says for c in carpathian.streaming.claims} == {"supported", "unsupported"}
    assert {c.cite.split(":")[0] for c in carpathian.streaming.claims} == set(carpathian.docs)
    assert carpathian.rate_limit_per_minute == 60 and carpathian.limits["configurable"] is True
    assert {code: carpathian.statuses[code].conditions for code in (402, 403, 429)} == {
        402: ("no-credit",),
        403: ("ip-blocked", "account-disabled"),
        429: ("rate-limited",),
    }
    assert carpathian.expected_status("revoked-key") == 401


def test_karta_facts(profiles: dict[str, Profile]) -> None:
    karta = profiles["karta"]
    assert karta.base_path == "/v1/projects/{project_ref}" and karta.base_path_params == ("project_ref",)
    assert karta.model_rule == "optional" and karta.key_prefix == "kt_live_"
    assert karta.streaming.framing == "karta-events" and karta.streaming.event == "chunk"
    assert set(karta.statuses) == {200, 401, 402, 403, 404, 409, 422}
    assert karta.expectation("chat.response.object").observed == '"text_completion"'
    assert karta.expectation("chat.usage.present") is not None


def test_inferbase_facts(profiles: dict[str, Profile]) -> None:
    inferbase = profiles["inferbase"]
    assert inferbase.base_path == "/api/v1/inference" and inferbase.key_prefix == "inf_"
    assert set(inferbase.endpoints) == {
        "chat",
        "models",
        "health",
        "keys",
        "key",
        "credits",
        "credit_transactions",
        "usage",
    }
    assert set(inferbase.public_endpoints) == {"models", "health"}
    assert inferbase.endpoint("keys").methods == ("POST", "GET")
    assert inferbase.endpoint("key").methods == ("DELETE",)
    assert {"minimum": 0, "maximum": 2, "default": 1.0}.items() <= inferbase.parameters["temperature"].items()
    assert {code: row.conditions for code, row in inferbase.statuses.items()}[403] == (
        "revoked-key",
        "account-disabled",
    )
    assert inferbase.expected_status("cold-start") == 502


# -- verdicts ------------------------------------------------------------------------------------------
def test_verdict_logic(profiles: dict[str, Profile]) -> None:
    karta, inferbase, carrot = profiles["karta"], profiles["inferbase"], profiles["carrot"]
    assert karta.verdict("chat.response.id", True) == "pass"
    assert karta.verdict("chat.response.id", False) == "fail"
    assert karta.verdict("chat.response.object", False) == "deviation"
    assert karta.verdict("chat.response.object", True) == "drift"  # the documented deviation did not happen
    assert profiles["carpathian"].verdict("models.list.contains-model", False) == "not-applicable"
    assert profiles["carpathian"].verdict("models.list.contains-model", True) == "not-applicable"
    # an entry for one endpoint does not reach another
    assert inferbase.verdict("clients.python-sdk.parse", False, endpoint="models") == "deviation"
    assert inferbase.verdict("clients.python-sdk.parse", False, endpoint="chat") == "fail"
    assert inferbase.verdict("clients.python-sdk.parse", False) == "fail"
    # what follows from the profile's other data
    assert carrot.verdict("models.list.schema", False, endpoint="models") == "not-applicable"
    assert inferbase.verdict("errors.status.no-key", False, endpoint="models") == "not-applicable"
    assert inferbase.verdict("errors.status.no-key", False, endpoint="chat") == "fail"
    assert profiles["carpathian"].verdict("errors.status.unknown-model", False) == "not-applicable"
    # shape deviations describe successful answers, not the error matrix's
    assert karta.verdict("clients.python-sdk.parse", True, "chat") == "drift"
    assert karta.verdict("clients.python-sdk.parse", True, "chat", error_response=True) == "pass"
    assert karta.verdict("clients.python-sdk.parse", False, "chat", error_response=True) == "fail"
    exp = inferbase.expectation("errors.status.no-key", "health")
    assert isinstance(exp, Expectation) and exp.cite and "needs no API key" in (exp.reason or "")


def test_an_entry_scoped_to_a_request_applies_only_to_such_requests(profiles: dict[str, Profile]) -> None:
    """Karta's stream has no usage chunk: a deviation only where the request asked for one."""
    karta = profiles["karta"]
    asked = {"stream": True, "stream_options": {"include_usage": True}}
    assert karta.verdict("stream.usage.final-chunk", False, "chat", request=asked) == "deviation"
    assert karta.verdict("stream.usage.final-chunk", True, "chat", request=asked) == "drift"
    assert karta.verdict("stream.usage.final-chunk", True, "chat", request={"stream": True}) == "pass"
    assert karta.verdict("stream.usage.final-chunk", False, "chat", request={}) == "fail"
    assert karta.verdict("stream.usage.final-chunk", False, "chat") == "deviation"  # request not known
    assert karta.expectation("stream.usage.final-chunk", "chat", request={"stream": True}) is None


def test_status_deviations_are_what_the_openai_run_reports(profiles: dict[str, Profile]) -> None:
    assert {c: r.status for c, r in profiles["karta"].status_deviations().items()} == {
        "malformed-json": 422,
        "invalid-param": 422,
        "no-credit": 402,
    }
    assert {c: r.status for c, r in profiles["inferbase"].status_deviations().items()} == {
        "no-credit": 402,
        "revoked-key": 403,
        "cold-start": 502,
    }
    assert all(rule.cite for p in profiles.values() for rule in p.status_deviations().values())


# -- the providers' own examples, run through the checks -------------------------------------------------
def _json_exchange(endpoint: str, request: dict[str, Any], text: str) -> Exchange:
    body, _ = json.JSONDecoder().raw_decode(text[text.index("{") :])  # scraped text may run on after it
    method = "POST" if request else "GET"
    recorded = RecordedRequest(method, URLS[endpoint], {}, json.dumps(request).encode() if request else b"")
    return Exchange(
        endpoint,
        recorded,
        200,
        {"content-type": "application/json"},
        json.dumps(body, ensure_ascii=False).encode(),
        started_ns=1,
        first_byte_ns=2,
        finished_ns=3,
    )


def _stream_exchange(
    endpoint: str, request: dict[str, Any], frames: list[bytes], content_type: str
) -> StreamExchange:
    recorded = RecordedRequest("POST", URLS[endpoint], {}, json.dumps(request).encode())
    exchange = StreamExchange(endpoint, recorded, 200, {"content-type": content_type}, b"".join(frames))
    reader, now = SSEReader(expect_json=True), 0
    for frame in frames:  # 50 ms apart, as a real stream's events would be
        now += 50_000_000
        reader.feed(frame, now)
    reader.close(complete=True)
    exchange.events, exchange.problems = list(reader.events), list(reader.problems)
    exchange.started_ns, exchange.first_byte_ns, exchange.finished_ns = 0, 50_000_000, now
    return exchange


def _failing(profile: Profile, exchange: Exchange, check_ids: list[str]) -> tuple[set[str], set[str]]:
    """(checks that fail on the exchange, checks the profile expects to deviate there)."""
    outcomes = {cid: run(cid, exchange) for cid in check_ids}
    failed = {cid for cid, o in outcomes.items() if not o.passed and not o.unjudged}
    expected = set()
    request = exchange.request.json if isinstance(exchange.request.json, dict) else {}
    for cid in check_ids:
        exp = profile.expectation(cid, exchange.endpoint, request=request)
        if exp is not None and exp.expected == "deviation":
            expected.add(cid)
    return failed, expected


EXAMPLES = [(name, ex.name) for name in PROVIDERS for ex in load_profile(name).examples]


@pytest.mark.parametrize(("name", "example_name"), EXAMPLES)
def test_documented_examples_fail_exactly_the_listed_checks(
    name: str, example_name: str, docs_root: Path
) -> None:
    profile = load_profile(name)
    example = next(ex for ex in profile.examples if ex.name == example_name)
    text = example.read(docs_root)
    if example.schema:
        body, _ = json.JSONDecoder().raw_decode(text[text.index("{") :])
        assert schemas.errors(example.schema, body) == []
        return
    if example.kind == "sse":
        frames = [block.encode() + b"\n\n" for block in text.split("\n\n")]
        exchange: Exchange = _stream_exchange(
            example.endpoint, {**example.request, **INCLUDE_USAGE}, frames, "text/event-stream"
        )
        checks = STREAM_CHECKS
    else:
        exchange, checks = (
            _json_exchange(example.endpoint, example.request, text),
            UNARY_CHECKS[example.endpoint],
        )
    failed, expected = _failing(profile, exchange, checks)
    assert failed == expected, (
        f"fails {sorted(failed - expected)} unlisted; lists {sorted(expected - failed)} that pass"
    )


def test_a_stream_answered_at_once_fails_exactly_carpathians_stream_expectations(
    profiles: dict[str, Profile],
) -> None:
    """The quickstart's claim, as bytes: a stream request gets the whole chat.completion as JSON."""
    carpathian = profiles["carpathian"]
    answer = {"role": "assistant", "content": "Hello!"}
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    completion = choice0(with_(CHAT, created=1_717_250_400, model="default", usage=usage), message=answer)
    request = {
        "model": "default",
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": True,
        **INCLUDE_USAGE,
    }
    streamed = _stream_exchange("chat", request, [json.dumps(completion).encode()], "application/json")
    failed, expected = _failing(carpathian, streamed, STREAM_CHECKS)
    unary = _json_exchange("chat", {**request, "stream": False}, json.dumps(completion))
    if not run("stream.text.matches-unary", streamed, unary).passed:
        failed.add("stream.text.matches-unary")
    expected |= (
        {"stream.text.matches-unary"} if carpathian.expectation("stream.text.matches-unary") else set()
    )
    assert failed == expected
    listed_stream = {cid for cid in carpathian.expectations if cid.startswith("stream.")}
    assert listed_stream == expected


def test_a_failure_where_the_docs_are_silent_is_undocumented_not_a_failure() -> None:
    from schemas import load_profile

    karta, openai = load_profile("karta"), load_profile("openai")
    assert karta.silent_on("tools.choice.none") and not karta.silent_on("chat.response.object")
    assert karta.verdict("tools.choice.none", False, "chat") == "undocumented"
    assert karta.verdict("tools.choice.none", True, "chat") == "pass"
    assert openai.verdict("tools.choice.none", False, "chat") == "fail"
