"""Verdicts a user can believe: one root cause per answer, blocked and inconclusive apart from pass and
fail, warnings for a SHOULD, a rate-aware target, and every verdict in results.json, JUnit and the CLI line."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from _check_cases import CHAT, CHAT_REQ, ERROR, chat, stream

from compat_suite.cli import summary_line
from compat_suite.results import Results, write_junit
from compat_suite.scenarios import proof
from compat_suite.target import Pacer, Target, retry_delay
from compat_suite.verify import ProofFailed, Verifier
from schemas import VERDICTS, load_profile, results_problems

SHAPE = ("chat.response.schema", "chat.response.id", "chat.response.created", "chat.usage.present")


def verifier(results: Results, *, strict: bool = False) -> Verifier:
    target = Target(base_url="http://127.0.0.1:9/v1", api_key=None, profile=load_profile("openai"))
    return Verifier(target, results, "tests::one", strict=strict)


def verdicts(results: Results) -> dict[str, str]:
    return {f.check: f.verdict for f in results.findings}


def test_a_refused_valid_request_is_one_finding_and_the_rest_blocked() -> None:
    results = Results(target={}, profile="openai")
    refused = chat({"error": {**ERROR["error"], "type": "server_error"}}, status=500)
    with pytest.raises(ProofFailed) as failed:
        verifier(results).judge(proof(SHAPE, refused))
    assert verdicts(results) == {"request.accepted": "fail", **{c: "blocked" for c in SHAPE}}
    assert "refused with 500" in str(failed.value) and "`id` is null" not in str(failed.value)
    blocked = [f for f in results.findings if f.verdict == "blocked"]
    assert all(f.root_cause == "request.accepted" for f in blocked)
    causes = results.to_json()["root_causes"]
    assert causes[0]["check"] == "request.accepted" and causes[0]["findings"] == 1 + len(SHAPE)
    assert "$OPENAI_API_KEY" in causes[0]["curl"] and "sk-test-secret" not in causes[0]["curl"]


def test_one_root_cause_is_recorded_once_however_many_proofs_share_the_exchange() -> None:
    results = Results(target={}, profile="openai")
    check = verifier(results)
    refused = chat(ERROR, status=400)
    for checks in (SHAPE[:2], SHAPE[2:]):
        with pytest.raises(ProofFailed):
            check.judge(proof(checks, refused))
    assert [f.check for f in results.findings if f.verdict == "fail"] == ["request.accepted"]


def test_a_json_body_for_a_stream_request_blames_the_stream_not_each_framing_check() -> None:
    results = Results(target={}, profile="openai")
    answered_at_once = stream(raw=json.dumps(CHAT).encode(), content_type="application/json")
    with pytest.raises(ProofFailed):
        verifier(results).judge(proof(("stream.done-terminator", "stream.sse.complete"), answered_at_once))
    assert verdicts(results) == {
        "stream.is-event-stream": "fail",
        "stream.done-terminator": "blocked",
        "stream.sse.complete": "blocked",
    }


def test_an_invalid_request_answered_200_is_its_own_root_cause() -> None:
    results = Results(target={}, profile="openai")
    with pytest.raises(ProofFailed):
        verifier(results).judge(proof(("errors.envelope",), chat(), error_response=True))
    assert verdicts(results) == {"errors.invalid-request.accepted": "fail", "errors.envelope": "blocked"}


def test_a_should_failure_is_a_warning_and_fails_only_a_strict_test() -> None:
    results = Results(target={}, profile="openai")
    differs = chat(
        {**CHAT, "choices": [{**CHAT["choices"][0], "message": {"role": "assistant", "content": "x"}}]}
    )
    verifier(results).judge(proof("chat.seed.determinism", chat(), differs))  # no ProofFailed
    assert verdicts(results) == {"chat.seed.determinism": "warn"}
    assert results.summary()["verdict"] == "warn"
    with pytest.raises(ProofFailed):
        verifier(Results(target={}, profile="openai"), strict=True).judge(
            proof("chat.seed.determinism", chat(), differs)
        )


def test_a_rate_limited_answer_makes_its_checks_inconclusive_never_failed() -> None:
    results = Results(target={}, profile="openai")
    limited = chat(ERROR, status=429)
    limited.rate_limited = "still 429 after 3 attempt(s)"
    verifier(results).judge(proof(SHAPE, limited))
    assert set(verdicts(results).values()) == {"inconclusive"}
    assert results.summary()["verdict"] == "pass"


def test_every_verdict_reaches_results_json_junit_and_the_cli_line(tmp_path: Path) -> None:
    results = Results(target={}, profile="openai")
    results.skip("chat.response.schema", "profile 'x' does not declare the chat endpoint", "t")
    with pytest.raises(ProofFailed):
        verifier(results).judge(proof(SHAPE, chat(ERROR, status=500)))
    path = results.write(tmp_path)
    document = json.loads(path.read_text())
    assert not results_problems(document)
    summary = document["summary"]
    assert (summary["skip"], summary["blocked"], summary["fail"]) == (1, len(SHAPE), 1)
    line = summary_line(summary)
    assert all(f" {v}" in line for v in VERDICTS) and "1 skip" in line and f"{len(SHAPE)} blocked" in line
    junit = write_junit(path, tmp_path / "junit.xml").read_text()
    assert junit.count("<skipped") == 1 + len(SHAPE) and 'value="blocked"' in junit


# -- the rate-aware target ------------------------------------------------------------------------------
def scripted_target(answers: list[httpx.Response], **kw: Any) -> tuple[Target, list[float]]:
    """A Target whose transport answers `answers` in turn, recording when each request came."""
    times: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        times.append(time.monotonic())
        return answers[min(len(times), len(answers)) - 1]

    target = Target(base_url="http://target.invalid/v1", api_key="k", profile=load_profile("openai"), **kw)
    target._client = httpx.Client(transport=httpx.MockTransport(handle))
    return target, times


def test_a_429_is_waited_out_as_retry_after_says_and_kept_as_evidence() -> None:
    limited = httpx.Response(
        429, headers={"retry-after-ms": "50", "x-ratelimit-remaining-requests": "0"}, json=ERROR
    )
    target, times = scripted_target([limited, httpx.Response(200, json=CHAT)])
    exchange = target.chat(CHAT_REQ)
    assert exchange.status == 200 and len(times) == 2 and times[1] - times[0] >= 0.045
    assert exchange.refusals[0]["headers"]["x-ratelimit-remaining-requests"] == "0"
    assert target.sent == 2


def test_past_the_retry_budget_the_429_is_returned_as_rate_limited() -> None:
    limited = httpx.Response(429, headers={"retry-after": "1"}, json=ERROR)
    target, times = scripted_target([limited], retry_budget_s=0.5)
    exchange = target.chat(CHAT_REQ)
    assert exchange.status == 429 and exchange.rate_limited and len(times) == 1


def test_a_spent_quota_and_a_429_under_test_are_not_retried() -> None:
    quota = httpx.Response(429, json={"error": {**ERROR["error"], "code": "insufficient_quota"}})
    target, times = scripted_target([quota, httpx.Response(200, json=CHAT)])
    assert target.chat(CHAT_REQ).status == 429 and len(times) == 1
    target, times = scripted_target([httpx.Response(429, json=ERROR), httpx.Response(200, json=CHAT)])
    assert target.chat(CHAT_REQ, retry=False).status == 429 and len(times) == 1


def test_the_target_paces_itself_under_the_documented_limit() -> None:
    target, times = scripted_target([httpx.Response(200, json=CHAT)], rate_limit_rpm=600)  # 0.1 s apart
    for _ in range(3):
        target.chat(CHAT_REQ)
    # Starts are 0.105 s apart (a 5 % margin under the limit); the first request's own setup delays
    # when it reaches the server, so the span is what is asserted.
    assert times[-1] - times[0] >= 0.2, [b - a for a, b in itertools.pairwise(times)]
    assert Pacer(None).interval == 0.0


def test_retry_delays_follow_the_headers_then_openai_pythons_backoff() -> None:
    assert retry_delay({"retry-after": "2"}, 1) == 2.0
    assert retry_delay({"x-ratelimit-reset-requests": "1.5s"}, 1) == 1.5
    assert retry_delay({"x-ratelimit-reset-tokens": "6m0s"}, 1) == 0.5  # past 60 s: the backoff instead
    assert [retry_delay({}, n) for n in (1, 2, 3, 6)] == [0.5, 1.0, 2.0, 8.0]
