"""The error matrix: endpoint x client mistake -> the status the profile expects, the OpenAI error
envelope, `param` named for an invalid parameter, never a 5xx, and the exception the Python SDK raises.

One raw exchange per cell (through the target), plus the same mistake sent through the openai SDK
where the SDK can express it. Every cell is a test (`test_error_matrix[chat-no-key]`) and a row of
`results.error_matrix`, which the HTML report renders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from compat_suite import checks
from compat_suite.clients import (
    MALFORMED_JSON,
    UNKNOWN_MODEL,
    UNKNOWN_PATH_SUFFIX,
    ClientRecord,
    python_sdk_condition,
)
from compat_suite.exchange import Exchange
from compat_suite.profiles import CLIENT_MISTAKES
from compat_suite.results import Results
from compat_suite.target import Target

MiB = 1024 * 1024
DEFAULT_PADDING = 5 * MiB  # over the 4 MiB the reference server takes; the profile may say more
GENERATION = ("chat", "completions", "embeddings")
BODY_CONDITIONS = ("malformed-json", "wrong-content-type", "invalid-param", "oversized-body")
# An out-of-range value per endpoint, and the parameter a 400 must name for it.
INVALID_PARAM = {
    "chat": ("temperature", 5),
    "completions": ("temperature", 5),
    "embeddings": ("encoding_format", "compat-suite-invalid"),
}
ENDPOINTS = (*GENERATION, "models")
# The client mistakes of the matrix (the gateway's conditions, such as no-credit, are the governance suite's).
CONDITIONS = CLIENT_MISTAKES

pytestmark = pytest.mark.endpoint("errors")


def _cells() -> list[Any]:
    cells = []
    for endpoint in ENDPOINTS:
        for condition in CONDITIONS:
            if endpoint == "models" and condition in BODY_CONDITIONS:
                continue  # GET /models takes no body: there is nothing to malform
            cells.append(pytest.param(endpoint, condition, id=f"{endpoint}-{condition}"))
    return cells


@dataclass
class Cell:
    """One raw request of the matrix and what its answer is judged by."""

    endpoint: str
    condition: str
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool | str = True
    param: str | None = None  # the parameter a 400 must name (invalid-param)
    sdk_body: dict[str, Any] = field(default_factory=dict)  # the request the SDK alters the same way
    padding: int = 0


def valid_body(target: Target, endpoint: str) -> dict[str, Any]:
    """A small valid request (one token at most, in case the target wrongly serves it)."""
    if endpoint == "chat":
        return {"model": target.model, "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 1}
    if endpoint == "completions":
        return {"model": target.model, "prompt": "Say hi.", "max_tokens": 1}
    return {"model": target.embedding_model, "input": "Say hi.", "encoding_format": "float"}


def padding_for(target: Target) -> int:
    """Bytes of padding that put a body just over the target's documented limit (5 MiB when none is)."""
    limit = target.profile.limits.get("max_body_bytes")
    return int(limit) + 1024 if isinstance(limit, int) and limit > 0 else DEFAULT_PADDING


def build_cell(target: Target, endpoint: str, condition: str) -> Cell:
    path = target.profile.endpoint_path(endpoint)
    if endpoint == "models":
        cell = Cell(endpoint, condition, "GET", path)
        if condition == "unknown-model":
            model_path = target.profile.endpoints.get("model", path + "/{model}")
            cell.path = model_path.replace("{model}", quote(UNKNOWN_MODEL))
        elif condition == "unknown-path":
            cell.path = path + UNKNOWN_PATH_SUFFIX
        elif condition == "wrong-method":
            cell.method, cell.json = "POST", {}
        elif condition == "no-key":
            cell.auth = False
        elif condition == "bad-key":
            cell.auth = "wrong"
        return cell
    body = valid_body(target, endpoint)
    cell = Cell(endpoint, condition, "POST", path, json=body, sdk_body=body)
    if condition == "no-key":
        cell.auth = False
    elif condition == "bad-key":
        cell.auth = "wrong"
    elif condition == "unknown-model":
        cell.json = {**body, "model": UNKNOWN_MODEL}
    elif condition == "malformed-json":
        cell.json, cell.content = None, MALFORMED_JSON
        cell.headers = {"Content-Type": "application/json"}
    elif condition == "wrong-content-type":
        cell.json, cell.content = None, json.dumps(body).encode()
        cell.headers = {"Content-Type": "text/plain"}
    elif condition == "invalid-param":
        name, value = INVALID_PARAM[endpoint]
        cell.json = cell.sdk_body = {**body, name: value}
        cell.param = name
    elif condition == "unknown-path":
        cell.path = path + UNKNOWN_PATH_SUFFIX
    elif condition == "wrong-method":
        cell.method, cell.json = "GET", None
    elif condition == "oversized-body":
        cell.padding = padding_for(target)
        cell.json = {**body, "user": "x" * cell.padding}
    return cell


def send(target: Target, cell: Cell) -> Exchange:
    return target.request(
        cell.endpoint,
        cell.method,
        cell.path,
        json=cell.json,
        content=cell.content,
        headers=cell.headers,
        auth=cell.auth,
    )


def _row_verdict(verdicts: list[str]) -> str:
    if any(v in ("fail", "drift") for v in verdicts):
        return "fail"
    if any(v == "deviation" for v in verdicts):
        return "deviation"
    if verdicts and all(v in ("not-applicable", "skip") for v in verdicts):
        return "skip"
    return "pass"


def _sdk_exception(record: ClientRecord | None) -> str | None:
    if record is None:
        return None  # the SDK cannot express this mistake
    return "no exception" if record.ok else record.error_class


@pytest.mark.parametrize(("endpoint", "condition"), _cells())
def test_error_matrix(
    target: Target, results: Results, request: pytest.FixtureRequest, endpoint: str, condition: str
) -> None:
    """One client mistake on one endpoint: the profile's status, the envelope, and the SDK's exception."""
    target.require(endpoint)
    expected = target.profile.expected_status(condition, endpoint)
    rule = target.profile.status_rule(condition, endpoint)
    row: dict[str, Any] = {
        "endpoint": endpoint,
        "condition": condition,
        "expected_status": expected,
        "status": None,
        "envelope": None,
        "sdk_exception": None,
        "verdict": "skip",
        "cite": rule.cite,
    }
    if expected is None:
        results.error_matrix.append(row)
        why = rule.reason or "does not apply here"
        pytest.skip(f"profile {target.profile.name!r}: {condition} on {endpoint}: {why}")
    cell = build_cell(target, endpoint, condition)
    exchange = send(target, cell)
    record = python_sdk_condition(target, endpoint, condition, cell.sdk_body, padding=cell.padding)

    plan: list[tuple[str, dict[str, Any]]] = [
        (f"errors.status.{condition}", {"expected_status": expected}),
        ("errors.envelope", {}),
        ("errors.no-5xx-for-client-error", {}),
    ]
    if cell.param:
        plan.append(("errors.param.named", {"param": cell.param}))
    if record is not None:  # the SDK must report the error answer as its API error, not a crash
        plan.append(("clients.python-sdk.parse", {"record": record}))
    failed, verdicts = [], []
    for check_id, context in plan:
        outcome = checks.run(check_id, exchange, endpoint=endpoint, **context)
        finding = results.record(
            outcome, target.profile, request.node.nodeid, error_response=True, request=exchange.request.json
        )
        verdicts.append(finding.verdict)
        if check_id == "errors.envelope":
            row["envelope"] = outcome.passed
        if finding.verdict in ("fail", "drift"):
            failed.append(f"{check_id}: {finding.message}")
    row.update(status=exchange.status, sdk_exception=_sdk_exception(record), verdict=_row_verdict(verdicts))
    results.error_matrix.append(row)
    if failed:
        pytest.fail("\n".join(failed), pytrace=False)
