"""The error matrix: endpoint x client mistake -> the status the profile expects, the OpenAI error
envelope, `param` named for an invalid parameter, never a 5xx, and the exception the Python SDK raises.

One raw exchange per cell (a case: `chat-no-key`), plus the same mistake sent through the openai SDK
where the SDK can express it. Every cell is a row of `results.error_matrix`, which the report renders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from schemas import CLIENT_MISTAKES

from ..clients import MALFORMED_JSON, UNKNOWN_MODEL, UNKNOWN_PATH_SUFFIX, ClientRecord, python_sdk_condition
from ..exchange import Exchange
from ..target import NotApplicable, Target
from ._context import Context
from ._registry import MatrixRow, Proofs, proof, scenario

MiB = 1024 * 1024
DEFAULT_PADDING = 5 * MiB  # over the 4 MiB the reference server takes; the profile may say more
GENERATION = ("chat", "completions", "embeddings", "responses")
BODY_CONDITIONS = ("malformed-json", "wrong-content-type", "invalid-param", "oversized-body")
# An out-of-range value per endpoint, and the parameter a 400 must name for it.
INVALID_PARAM = {
    "chat": ("temperature", 5),
    "completions": ("temperature", 5),
    "embeddings": ("encoding_format", "compat-suite-invalid"),
    "responses": ("temperature", 5),
}
ENDPOINTS = (*GENERATION, "models")
# A method no documented operation defines on any path the matrix probes. Not GET: GET /chat/completions
# lists stored completions (openai-openapi.yaml:2002 "get:" under "/chat/completions:"), and DELETE
# /models/{model} deletes a fine-tuned model (:8878); PUT is defined on none of them.
WRONG_METHOD = "PUT"
STATUS_CHECKS = tuple(f"errors.status.{condition}" for condition in CLIENT_MISTAKES)
CELLS = tuple(
    f"{endpoint}-{condition}"
    for endpoint in ENDPOINTS
    for condition in CLIENT_MISTAKES
    if not (endpoint == "models" and condition in BODY_CONDITIONS)  # GET /models takes no body
)


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
    if endpoint == "responses":  # 16: the least max_output_tokens OpenAI takes
        return {"model": target.model, "input": "Say hi.", "max_output_tokens": 16}
    return {"model": target.embedding_model, "input": "Say hi.", "encoding_format": "float"}


def padding_for(target: Target) -> int:
    """Bytes of padding that put a body just over the target's documented limit (5 MiB when none is)."""
    limit = target.profile.limits.get("max_body_bytes")
    return int(limit) + 1024 if isinstance(limit, int) and limit > 0 else DEFAULT_PADDING


def _models_cell(target: Target, condition: str) -> Cell:
    path = target.profile.endpoint_path("models")
    cell = Cell("models", condition, "GET", path)
    if condition == "unknown-model":
        model_path = target.profile.endpoints.get("model", path + "/{model}")
        cell.path = model_path.replace("{model}", quote(UNKNOWN_MODEL))
    elif condition == "unknown-path":
        cell.path = path + UNKNOWN_PATH_SUFFIX
    elif condition == "wrong-method":
        cell.method = WRONG_METHOD
    elif condition == "no-key":
        cell.auth = False
    elif condition == "bad-key":
        cell.auth = "wrong"
    return cell


def build_cell(target: Target, endpoint: str, condition: str) -> Cell:
    if endpoint == "models":
        return _models_cell(target, condition)
    body = valid_body(target, endpoint)
    cell = Cell(endpoint, condition, "POST", target.profile.endpoint_path(endpoint), json=body, sdk_body=body)
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
        cell.path += UNKNOWN_PATH_SUFFIX
    elif condition == "wrong-method":
        cell.method = WRONG_METHOD  # with the valid body: the method is the one mistake
    elif condition == "oversized-body":
        cell.padding = padding_for(target)
        cell.json = {**body, "user": "x" * cell.padding}
    return cell


def send(target: Target, cell: Cell) -> Exchange:
    """The cell's raw request, through the target."""
    return target.request(
        cell.endpoint,
        cell.method,
        cell.path,
        json=cell.json,
        content=cell.content,
        headers=cell.headers,
        auth=cell.auth,
    )


def _sdk_exception(record: ClientRecord | None) -> str | None:
    if record is None:
        return None  # the SDK cannot express this mistake
    return "no exception" if record.ok else record.error_class


@scenario(
    "errors.matrix",
    cases=CELLS,
    proves=(*STATUS_CHECKS, "errors.invalid-request.accepted", "errors.envelope", "errors.no-5xx-for-client-error",
            "errors.param.named", "clients.python-sdk.parse"),
)  # fmt: skip
def error_matrix(ctx: Context) -> Proofs:
    """One client mistake on one endpoint: the profile's status, the envelope, and the SDK's exception."""
    t = ctx.target
    assert ctx.case is not None
    endpoint = next(e for e in ENDPOINTS if ctx.case.startswith(e + "-"))
    condition = ctx.case.removeprefix(endpoint + "-")
    t.require(endpoint)
    expected = t.profile.expected_status(condition, endpoint)
    rule = t.profile.status_rule(condition, endpoint)
    if expected is None:
        yield proof((), row=MatrixRow(endpoint, condition, None, rule.cite, skipped=True))
        why = rule.reason or "does not apply here"
        raise NotApplicable(f"profile {t.profile.name!r}: {condition} on {endpoint}: {why}")
    cell = build_cell(t, endpoint, condition)
    exchange = send(t, cell)
    record = python_sdk_condition(t, endpoint, condition, cell.sdk_body, padding=cell.padding)
    per_check: dict[str, dict[str, Any]] = {
        "errors.invalid-request.accepted": {},  # the root cause when the mistake was served
        f"errors.status.{condition}": {"expected_status": expected},
        "errors.envelope": {},
        "errors.no-5xx-for-client-error": {},
    }
    if cell.param:
        per_check["errors.param.named"] = {"param": cell.param}
    if record is not None:  # the SDK must report the error answer as its API error, not a crash
        per_check["clients.python-sdk.parse"] = {"record": record}
    row = MatrixRow(endpoint, condition, expected, rule.cite, exchange.status, _sdk_exception(record))
    yield proof(
        tuple(per_check), exchange, endpoint=endpoint, error_response=True, row=row, per_check=per_check
    )
