"""The clients checks on synthetic exchanges (what the SDKs parse): each passes on a good input and fails
on its fault's effect (the builders are in tests/_check_cases.py)."""

from __future__ import annotations

import inspect

import pytest
from _check_cases import Cases, case_tests, chat, emb, lazy, one, stream

from compat_suite.checks import registry, run
from compat_suite.checks.clients import node_sdk_unavailable
from compat_suite.clients import ClientCall, ClientRecord
from compat_suite.exchange import Exchange, StreamExchange
from reference_server.faults import FaultSet, catalog

CLIENT_CHECKS = ("clients.python-sdk.parse", "clients.python-async-sdk.parse", "clients.node-sdk.parse")


def client_fault_exchange(fault_id: str) -> Exchange:
    """The answer a clients fault gives: a stream through its framing, or an embeddings answer with its
    headers (the Node fault's endpoints never stream)."""
    faults = FaultSet([fault_id])
    if any(f.frame for f in faults.served):
        return stream(faults=(fault_id,))
    return emb(headers=faults.headers("embeddings", {"content-type": "application/json"}))


HELPERS = ClientCall("helpers", "helpers", {"model": "m"})


def helpers_record(
    sdk: str, ok: bool, error_class: str | None = None, status: int | None = None
) -> ClientRecord:
    """What one SDK's helpers made of the target's answers (compat_suite.sdk_helpers)."""
    message = None if ok else "1 validation error for GetWeather: Invalid JSON: EOF while parsing"
    return ClientRecord(
        sdk, "1", HELPERS, ok, error_class=error_class, error_status=status, error_message=message
    )


def helpers_case(sdk: str) -> tuple:
    """(passing, failing): the helpers parsed everything; the broken-structures fault's effect, a
    validation or parse error on answers to requests the target accepted."""
    good = one(chat(), record=helpers_record(sdk, True))
    bad = one(chat(), record=helpers_record(sdk, False, "ValidationError"))
    return good, bad


CASES: Cases = {
    "clients.python-sdk.helpers": helpers_case("openai-python"),
    "clients.node-sdk.helpers": helpers_case("openai-node"),
    "clients.python-sdk.parse": (
        lazy(lambda: (stream(),)),
        lazy(lambda: stream(faults=("clients-python-retry-block",))),
    ),
    "clients.python-async-sdk.parse": (
        one(chat()),
        lazy(lambda: stream(faults=("clients-python-async-retry-block",))),
    ),
    "clients.node-sdk.parse": (
        lazy(stream),
        lazy(lambda: client_fault_exchange("clients-node-json-media-type-case")),
    ),
}

test_check_passes_on_good_input, test_check_fails_on_fault_effect = case_tests(CASES)


def _raw_failures(exchange: Exchange) -> set[str]:
    """The single-exchange checks (not the clients') that fail on an exchange of its endpoint and kind."""
    streamed = isinstance(exchange, StreamExchange)
    failed = set()
    for check_id, chk in registry().items():
        area = check_id.split(".", 1)[0]
        params = [p for p in inspect.signature(chk.func).parameters.values() if p.default is p.empty]
        if area == "clients" or exchange.endpoint not in chk.endpoints or len(params) != 1:
            continue
        if (area == "stream") != streamed and area != "transport":
            continue
        if not run(check_id, exchange).passed:
            failed.add(check_id)
    return failed


@pytest.mark.parametrize("fault_id", sorted(f.id for f in catalog().values() if f.check in CLIENT_CHECKS))
def test_client_fault_is_an_answer_the_suite_accepts_and_only_its_sdk_fails(fault_id: str) -> None:
    """The client checks prove the SDKs parse whatever the suite accepts, so a client fault must be
    accepted by every raw check the clean answer passes, and fail its own SDK's check and no other."""
    if node_sdk_unavailable():
        pytest.skip(node_sdk_unavailable())
    faulty_exchange = client_fault_exchange(fault_id)
    clean = stream() if isinstance(faulty_exchange, StreamExchange) else emb()
    # The raw reader is as strict as the SDKs: a data-less block (the retry-block faults) is caught by
    # stream.sse.event-has-data too. Served to one SDK only, only that SDK's check fails in a run.
    shared = {"stream.sse.event-has-data"}
    assert _raw_failures(faulty_exchange) <= _raw_failures(clean) | shared, (
        "the raw checks reject the fault's answer"
    )
    failed = {check_id for check_id in CLIENT_CHECKS if not run(check_id, faulty_exchange).passed}
    own = catalog()[fault_id].check
    # openai-python's sync and async clients share one SSE decoder: no answer breaks only one of them.
    # The server serves a Python fault's answer to one client only (`only_for`); the end-to-end
    # self-test proves that exactly that client's check fails.
    python_sdk = {"clients.python-sdk.parse", "clients.python-async-sdk.parse"}
    assert failed == (python_sdk if own in python_sdk else {own}), failed


def test_a_refused_helper_request_is_the_targets_answer_not_the_sdks_failure() -> None:
    outcome = run(
        "clients.python-sdk.helpers",
        chat(),
        record=helpers_record("openai-python", False, "BadRequestError", 400),
    )
    assert outcome.passed and "refused" in outcome.message
