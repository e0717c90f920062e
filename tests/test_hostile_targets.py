"""A hostile target never breaks the suite: each misbehaviour ends as a failed check with bounded
evidence, within the timeout, never as an exception or a hang.

The suite's own machinery runs here (`Target` with a short timeout, then `compat_suite.checks.run`)
against tests/hostile_server.py; the last test runs `pytest suites/conformance` itself against it.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from _repo import REPO_ROOT
from hostile_server import HostileServer

from compat_suite import checks
from compat_suite.exchange import Exchange, StreamExchange
from compat_suite.target import Target
from schemas import Profile

TIMEOUT_S = 3.0
SLACK_S = 1.5  # thread wake-ups and the checks themselves, on 2 busy cores
EVIDENCE_LIMIT = 64 * 1024  # bytes of JSON per finding
API_KEY = "sk-hostile-secret-0123456789abcdef"
PROFILE = Profile(
    name="hostile-test",
    base_path="/v1",
    endpoints={"chat": "/chat/completions", "completions": "/completions", "models": "/models"},
)
CHAT = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}

Sent = Callable[[str], tuple[Exchange, float, int]]
# mode -> (streamed?, the checks that must fail on it)
CASES: dict[str, tuple[bool, tuple[str, ...]]] = {
    "garbage": (False, ("transport.json-body", "chat.response.schema")),
    "not-http": (False, ("transport.complete", "transport.json-body", "chat.response.schema")),
    "endless": (False, ("transport.complete", "chat.response.schema")),
    "huge": (False, ("transport.complete", "chat.response.schema")),
    "drip-body": (False, ("transport.complete", "chat.response.schema")),
    "drip-head": (False, ("transport.complete", "transport.json-body")),
    "invalid-utf8": (False, ("transport.json-body", "chat.response.schema")),
    "reset": (False, ("transport.complete", "chat.response.schema")),
    "headers-only": (False, ("transport.complete", "transport.json-body")),
    "sse-endless": (True, ("transport.complete", "stream.done-terminator", "stream.sse.complete")),
    "drip-head-stream": (True, ("transport.complete", "stream.content-type", "stream.done-terminator")),
}


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture(scope="module")
def sent(hostile: HostileServer) -> Callable[[str], tuple[Exchange, float, int]]:
    """`sent(case) -> (exchange, seconds, body cap)`: one exchange per case, shared by the tests."""
    cache: dict[str, tuple[Exchange, float, int]] = {}

    def send(case: str) -> tuple[Exchange, float, int]:
        if case not in cache:
            target = _target(hostile, case.removesuffix("-stream"))
            try:
                exchange, elapsed = _send(target, CASES[case][0])
            finally:
                target.close()
            cache[case] = (exchange, elapsed, target.max_body_bytes)
        return cache[case]

    return send


def _target(hostile: HostileServer, mode: str) -> Target:
    return Target(hostile.base_url(mode), API_KEY, PROFILE, model="m", timeout_s=TIMEOUT_S)


def _send(target: Target, stream: bool) -> tuple[Exchange, float]:
    started = time.monotonic()
    exchange = target.chat_stream(CHAT) if stream else target.chat(CHAT)
    return exchange, time.monotonic() - started


def _assert_bounded_evidence(evidence: dict, check_id: str) -> None:
    text = json.dumps(evidence)  # must be JSON-safe as it stands
    assert len(text.encode()) < EVIDENCE_LIMIT, f"{check_id}: evidence of {len(text)} characters"
    assert API_KEY not in text, f"{check_id}: the API key leaked into evidence"


def _chat_checks(stream: bool) -> list[checks.Check]:
    """Every registered chat check that takes exchanges alone (pairs get the same exchange twice)."""
    out = []
    for chk in checks.registry().values():
        if "chat" not in chk.endpoints or chk.id.startswith("clients.node"):
            continue
        if chk.id.startswith("stream.") != stream and not chk.id.startswith(("transport.", "clients.")):
            continue
        params = inspect.signature(chk.func).parameters.values()
        if any(p.kind is p.KEYWORD_ONLY and p.default is p.empty for p in params):
            continue  # needs context this scenario does not have (a model name, a param)
        out.append(chk)
    return out


@pytest.mark.parametrize("mode", sorted(CASES))
def test_hostile_target_fails_checks_in_time(sent: Sent, mode: str) -> None:
    """The exchange ends within the timeout; the named checks fail with evidence (status, bytes)."""
    stream, must_fail = CASES[mode]
    exchange, elapsed, body_cap = sent(mode)
    assert elapsed < TIMEOUT_S + SLACK_S, f"{mode}: the exchange took {elapsed:.1f} s"
    assert isinstance(exchange, StreamExchange) is stream
    assert len(exchange.body) <= body_cap
    for check_id in must_fail:
        outcome = checks.run(check_id, exchange)
        assert not outcome.passed, f"{mode}: {check_id} passed on a hostile answer"
        assert outcome.message
        assert "status" in outcome.evidence and "body" in outcome.evidence, outcome.evidence.keys()
        _assert_bounded_evidence(outcome.evidence, check_id)


@pytest.mark.parametrize("mode", sorted(CASES))
def test_every_check_survives_hostile_exchange(sent: Sent, mode: str) -> None:
    """No check raises anything but a finding on a hostile exchange, and all evidence stays bounded."""
    stream, _ = CASES[mode]
    exchange, _, _ = sent(mode)
    ran = 0
    for chk in _chat_checks(stream):
        positional = [
            p
            for p in inspect.signature(chk.func).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
        started = time.monotonic()
        outcome = checks.run(chk.id, *[exchange] * len(positional))  # anything but Finding propagates
        assert time.monotonic() - started < 10, f"{chk.id} took too long on {mode}"
        _assert_bounded_evidence(outcome.evidence, chk.id)
        ran += 1
    assert ran >= 10, f"only {ran} checks ran"


def test_deadline_holds_on_a_reused_connection(hostile: HostileServer) -> None:
    """A keep-alive connection that answers once, then drips the next status line, is cut at the deadline."""
    target = _target(hostile, "keepalive-drip")
    try:
        first, _ = _send(target, False)
        second, elapsed = _send(target, False)
    finally:
        target.close()
    assert first.status == 200 and first.transport_error is None
    assert elapsed < TIMEOUT_S + SLACK_S
    assert second.transport_error and "within 3 s" in second.transport_error
    assert not checks.run("transport.complete", second).passed


@pytest.mark.slow
def test_whole_suite_survives_garbage_target(hostile: HostileServer, tmp_path) -> None:
    """`pytest suites/conformance` against a garbage target ends with exit code 1, in bounded time."""
    env = {**os.environ, "OPENAI_API_KEY": "", "COMPAT_API_KEY": ""}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "suites/conformance",
        "--compat-base-url",
        hostile.base_url("garbage"),
        "--compat-api-key",
        API_KEY,
        "--compat-model",
        "m",
        "--compat-embedding-model",
        "e",
        "--compat-timeout",
        str(TIMEOUT_S),
        "--compat-report-dir",
        str(tmp_path),
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    started = time.monotonic()
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    elapsed = time.monotonic() - started
    tail = (proc.stdout + proc.stderr)[-3000:]
    assert proc.returncode == 1, f"exit {proc.returncode} after {elapsed:.0f} s:\n{tail}"
    assert "Traceback" not in proc.stderr, tail
    assert " failed" in proc.stdout, tail
    results = json.loads((tmp_path / "results.json").read_text())
    failed = {f["check"] for f in results["findings"] if f["verdict"] == "fail"}
    assert "transport.json-body" in failed, sorted(failed)
    assert API_KEY not in (tmp_path / "results.json").read_text()
