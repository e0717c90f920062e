"""The official Node SDK (npm `openai`, driven by suites/clients/node/driver.mjs) makes the suite's calls
against the target and must parse every answer the suite accepted for the same request."""

from __future__ import annotations

from typing import Any

import pytest

from compat_suite.checks._clients import ClientUnavailable, node_sdk_unavailable
from compat_suite.clients import STANDARD_CALL_IDS, ClientCall, ClientRecord, run_node
from compat_suite.target import RequestBudgetExhausted, Target

pytestmark = [
    pytest.mark.endpoint("clients"),
    pytest.mark.skipif(node_sdk_unavailable() is not None, reason=f"Node SDK: {node_sdk_unavailable()}"),
]


@pytest.fixture(scope="session")
def node_records(target: Target, client_calls: dict[str, ClientCall]) -> dict[str, ClientRecord]:
    try:
        return {r.call.id: r for r in run_node(target, list(client_calls.values()))}
    except (RequestBudgetExhausted, ClientUnavailable) as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("call_id", STANDARD_CALL_IDS)
def test_node_sdk(accepted: Any, node_records: dict[str, ClientRecord], verify: Any, call_id: str) -> None:
    """The Node SDK parses the live answer to the call, and the accepted raw answer replayed into it."""
    call, exchange = accepted(call_id)
    verify("clients.node-sdk.parse", exchange, record=node_records[call.id])
