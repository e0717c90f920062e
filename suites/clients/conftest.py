"""What the client suites share: the calls, the raw exchanges the suite accepted for them (sent once
per session), and each SDK's live records of the same calls (made once per session per SDK)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest

from compat_suite import checks
from compat_suite.clients import ClientCall, standard_calls
from compat_suite.exchange import Exchange
from compat_suite.target import Target

_STREAM = (
    "transport.complete",
    "stream.content-type",
    "stream.sse.json-data",
    "stream.sse.complete",
    "stream.done-terminator",
    "stream.chunk.schema",
)
# What the suite must accept of a raw exchange before an SDK is held to parsing it.
ACCEPTANCE: dict[str, tuple[str, ...]] = {
    "chat": ("transport.complete", "transport.json-body", "chat.response.schema"),
    "chat_stream": _STREAM,
    "completions": ("transport.complete", "transport.json-body", "completions.response.schema"),
    "completions_stream": _STREAM,
    "embeddings": ("transport.complete", "transport.json-body", "embeddings.response.schema"),
    "models": ("transport.complete", "transport.json-body", "models.list.schema"),
    "model": ("transport.complete", "transport.json-body", "models.retrieve.schema"),
}

Accepted = Callable[[str], tuple[ClientCall, Exchange]]


def _raw(target: Target, call: ClientCall) -> Exchange:
    if call.kind == "chat":
        return target.chat(call.body)
    if call.kind == "chat_stream":
        return target.chat_stream(call.body)
    if call.kind == "completions":
        return target.completions(call.body)
    if call.kind == "completions_stream":
        return target.completions_stream(call.body)
    if call.kind == "embeddings":
        return target.embeddings(call.body)
    if call.kind == "models":
        return target.get("models")
    path = target.profile.endpoint_path("model").replace("{model}", quote(call.body["model"], safe="/"))
    return target.get("model", path)


@pytest.fixture(scope="session")
def client_calls(target: Target) -> dict[str, ClientCall]:
    return {call.id: call for call in standard_calls(target)}


@pytest.fixture(scope="session")
def accepted(target: Target, client_calls: dict[str, ClientCall]) -> Accepted:
    """`accepted(call_id) -> (call, raw exchange)`; skips when the target cannot take the call, or the
    suite did not accept the raw answer (the conformance suites report why; SDKs are judged on the rest)."""
    cache: dict[str, Exchange] = {}

    def get(call_id: str) -> tuple[ClientCall, Exchange]:
        call = client_calls.get(call_id)
        if call is None:
            pytest.skip(f"the target cannot take the {call_id} call (endpoint, model or streaming missing)")
        if call_id not in cache:
            cache[call_id] = _raw(target, call)
        exchange = cache[call_id]
        for check_id in ACCEPTANCE[call.kind]:
            outcome = checks.run(check_id, exchange)
            if not outcome.passed:
                pytest.skip(
                    f"the suite did not accept the raw {call_id} answer ({check_id}: {outcome.message})"
                )
        return call, exchange

    return get
