"""Provider profiles against the checks and the docs: every expectation key names a check, every
citation is exact, and each provider's own documented examples, run through the checks, fail exactly
the checks its profile lists as deviations. (Loading: test_profile_loading.py; the facts and verdicts:
test_profile_facts.py.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _check_cases import CHAT, choice0, with_
from _profiles import PROVIDERS

import schemas
from compat_suite.checks import PYTHON_CLIENTS, registry, response_shape, run, stream_checks
from compat_suite.exchange import Exchange, RecordedRequest, StreamExchange
from compat_suite.sse import SSEReader
from schemas import Citation, Profile, load_profile, shared_docs_dir, verify_citations

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
def docs_root() -> Path:
    root = shared_docs_dir()
    if root is None:
        pytest.skip(
            "the provider docs (../shared beside the checkout) are not here; citations cannot be read"
        )
    return root


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


def test_a_stream_answered_at_once_fails_exactly_carpathians_stream_expectations() -> None:
    """The quickstart's claim, as bytes: a stream request gets the whole chat.completion as JSON."""
    carpathian = load_profile("carpathian")
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
