"""The openai Python SDK, sync and async (max_retries=0, strict response validation), makes the suite's
calls against the target and must parse every answer the suite accepted for the same request."""

from __future__ import annotations

from typing import Any

import pytest

from compat_suite.clients import STANDARD_CALL_IDS, ClientCall, ClientRecord, run_python, run_python_async
from compat_suite.target import RequestBudgetExhausted, Target

pytestmark = pytest.mark.endpoint("clients")


@pytest.fixture(scope="session")
def python_records(target: Target, client_calls: dict[str, ClientCall]) -> dict[str, ClientRecord]:
    try:
        return {r.call.id: r for r in run_python(target, list(client_calls.values()))}
    except RequestBudgetExhausted as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def python_async_records(target: Target, client_calls: dict[str, ClientCall]) -> dict[str, ClientRecord]:
    try:
        return {r.call.id: r for r in run_python_async(target, list(client_calls.values()))}
    except RequestBudgetExhausted as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("call_id", STANDARD_CALL_IDS)
def test_python_sdk(
    accepted: Any, python_records: dict[str, ClientRecord], verify: Any, call_id: str
) -> None:
    """The sync SDK parses the live answer to the call, and the accepted raw answer replayed into it."""
    call, exchange = accepted(call_id)
    verify("clients.python-sdk.parse", exchange, record=python_records[call.id])


@pytest.mark.parametrize("call_id", STANDARD_CALL_IDS)
def test_python_async_sdk(
    accepted: Any, python_async_records: dict[str, ClientRecord], verify: Any, call_id: str
) -> None:
    """The async SDK parses the live answer to the call, and the accepted raw answer replayed into it."""
    call, exchange = accepted(call_id)
    verify("clients.python-async-sdk.parse", exchange, record=python_async_records[call.id])
