"""schemathesis against schemas/openapi.yaml: positive and negative cases for every operation the
profile declares, judged by schemathesis's own checks and by ours, plugged in as schemathesis checks.

Cases are bounded (`MAX_EXAMPLES` per operation and mode, deterministic, no example database) and
sent through the `Target`, so that they count toward `--max-requests`, obey its timeouts and size
cap, and land in the results with redacted evidence. Positive cases are made cheap and servable
before they are sent: the target's model, a small `max_tokens` and `n`, no stream (streams have
their own suite). A valid request a target refuses with a 4xx and the envelope is allowed here
(the property suite holds the narrower space every target must serve); a 5xx is not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from compat_suite import checks
from compat_suite.exchange import Exchange, RecordedRequest
from compat_suite.explore import Exploration
from compat_suite.target import Target
from compat_suite.verify import request_body
from schemas import OPENAPI_PATH

MAX_EXAMPLES = 5  # per operation, positive and negative together
CHEAP_MAX_TOKENS = 8
CHEAP_N = 2
RESPONSES_MAX_OUTPUT_TOKENS = 16  # max_output_tokens' documented minimum

# The profile's endpoint name for each operation of schemas/openapi.yaml.
OPERATION_ENDPOINTS = {
    "createChatCompletion": "chat",
    "createCompletion": "completions",
    "createEmbedding": "embeddings",
    "listModels": "models",
    "retrieveModel": "model",
    "retrieveModelHealth": "health",
    "createResponse": "responses",
    "getResponse": "responses",
    "deleteResponse": "responses",
    "listInputItems": "responses",
}
# Our check of a successful answer, per operation (where we have none of our own, schemathesis's
# response_schema_conformance judges the shape).
SUCCESS_CHECKS = {
    "createChatCompletion": ["transport.complete", "transport.json-body", "chat.response.schema"],
    "createCompletion": ["transport.complete", "transport.json-body", "completions.response.schema"],
    "createEmbedding": ["transport.complete", "transport.json-body", "embeddings.response.schema"],
    "listModels": ["transport.complete", "transport.json-body", "models.list.schema"],
    "retrieveModel": ["transport.complete", "transport.json-body", "models.retrieve.schema"],
    "retrieveModelHealth": ["transport.complete", "transport.json-body"],
    "createResponse": ["transport.complete", "transport.json-body", "responses.response.schema"],
    "getResponse": ["transport.complete", "transport.json-body", "responses.response.schema"],
    "deleteResponse": ["transport.complete", "transport.json-body"],
    "listInputItems": ["transport.complete", "transport.json-body"],
}
REFUSAL_CHECKS = list(checks.REFUSAL)
NEGATIVE_CHECKS = [*REFUSAL_CHECKS, "errors.no-5xx-for-client-error"]
BUILTIN_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Headers the target's client sets itself.
TRANSPORT_HEADERS = frozenset({"content-length", "host", "connection", "accept-encoding", "user-agent"})

schema = schemathesis.openapi.from_path(OPENAPI_PATH, config=schemathesis.Config())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
    no_shrink=True,  # shrinking re-sends requests to a possibly paid target
    with_security_parameters=False,  # the target's own key is sent; the error suite tests bad keys
)
schema.config.phases.update(phases=["examples", "fuzzing"])


# -- keep exploring: every example judged, failures grouped, the test failed at the end ----------------
@pytest.fixture
def exploring(explore: Exploration) -> Iterator[tuple[Exploration, list[str]]]:
    """The operation's exploration and schemathesis's own failures; after the last example, every group
    is recorded once and the test fails if any failed (an example never stops the run)."""
    builtin_failures: list[str] = []
    yield explore, builtin_failures
    failed = explore.finish() + sorted(set(builtin_failures))
    if failed:
        pytest.fail("\n".join(failed), pytrace=False)


def exchange_from_response(response: Response, endpoint: str) -> Exchange:
    """What our checks see, rebuilt from a schemathesis response."""
    sent = response.request
    body = sent.body if isinstance(sent.body, bytes) else (sent.body or "").encode("utf-8")
    recorded = RecordedRequest(sent.method or "GET", sent.url or "", dict(sent.headers), body)
    exchange = Exchange(endpoint, recorded)
    exchange.status = response.status_code
    exchange.headers = {name: ", ".join(values) for name, values in response.headers.items()}
    exchange.body = response.content or b""
    return exchange


def profiled(
    builtins: list[Any], target: Target, endpoint: str, operation: str, exchange: Exchange
) -> list[Any]:
    """schemathesis's checks, less those the profile overrules (they know no profile): its status
    check where the provider documents the status it got (Karta's 422), and, on a successful answer,
    its schema check where the profile documents that the shape departs from OpenAI's (an expectation
    on our schema check, which then judges the shape as a cited deviation)."""
    left_out: list[Any] = []
    if exchange.status in target.profile.statuses:
        left_out.append(status_code_conformance)
    schema_check = next((c for c in SUCCESS_CHECKS[operation] if c.endswith(".schema")), None)
    success = exchange.status is not None and exchange.status < 400
    if success and schema_check is not None:
        if target.profile.expectation(schema_check, endpoint, request=request_body(exchange)) is not None:
            left_out.append(response_schema_conformance)
    return [check for check in builtins if check not in left_out]


# -- sending a case through the target ------------------------------------------------------------------
def make_cheap(case: Case, endpoint: str, target: Target) -> None:
    """Turn a positive case into one the target can serve cheaply, keeping it valid."""
    model = target.model_for(endpoint)
    if "model" in case.path_parameters and target.model:
        case.path_parameters = {**case.path_parameters, "model": target.model}
    body = case.body
    if not isinstance(body, dict) or endpoint not in ("chat", "completions", "embeddings", "responses"):
        return
    if model:
        body["model"] = model
    for name in ("stream", "stream_options", "best_of", "background"):
        body.pop(name, None)
    if endpoint == "embeddings":
        return
    if endpoint == "responses":  # the smallest limit OpenAI allows: never the target's default length
        body["max_output_tokens"] = RESPONSES_MAX_OUTPUT_TOKENS
        return
    names = ("max_tokens", "max_completion_tokens") if endpoint == "chat" else ("max_tokens",)
    present = [name for name in names if isinstance(body.get(name), int)]
    cap = min([CHEAP_MAX_TOKENS, *(body[name] for name in present)])
    for name in present or ["max_tokens"]:  # one limit always: never the target's default length
        body[name] = cap
    if isinstance(body.get("n"), int):
        body["n"] = min(body["n"], CHEAP_N)


def send(case: Case, endpoint: str, target: Target) -> tuple[Exchange, Response]:
    """Send `case` through the target (on the profile's path); the exchange and schemathesis's view of it."""
    kwargs = case.as_transport_kwargs(base_url=target.base_url)
    path = target.profile.endpoint_path(endpoint)
    for name, value in case.path_parameters.items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    headers = {
        k: str(v) for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in TRANSPORT_HEADERS
    }
    prepared = requests.Request(
        method=case.method.upper(),
        url=target.url(path),
        headers=headers,
        params=kwargs.get("params"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
    ).prepare()
    query = urlsplit(prepared.url).query
    content = prepared.body if isinstance(prepared.body, bytes) else (prepared.body or "").encode("utf-8")
    sent_headers = {k: v for k, v in prepared.headers.items() if k.lower() not in TRANSPORT_HEADERS}
    exchange = target.request(
        endpoint,
        case.method.upper(),
        path + (f"?{query}" if query else ""),
        content=content or None,
        headers=sent_headers,
    )
    prepared.headers.update(
        target.auth_headers()
    )  # what was sent, for schemathesis's report (redacted there)
    response = Response(
        status_code=exchange.status or 0,
        headers={name: [value] for name, value in exchange.headers.items()},
        content=exchange.body,
        request=prepared,
        elapsed=((exchange.finished_ns or exchange.started_ns) - exchange.started_ns) / 1e9,
        verify=True,
    )
    return exchange, response


@schema.parametrize()
# One exploration per operation, across its examples: the fixture is meant to outlive each example.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_openapi_operation(
    case: Case, target: Target, exploring: tuple[Exploration, list[str]], skip_checks: Any
) -> None:
    """Every declared operation, positive and negative: our checks and schemathesis's hold."""
    explore, builtin_failures = exploring
    operation = case.operation.definition.raw["operationId"]
    endpoint = OPERATION_ENDPOINTS[operation]
    missing = target.missing(endpoint)
    if missing:
        skip_checks(SUCCESS_CHECKS[operation], missing)
    positive = case.meta is None or case.meta.generation.mode is GenerationMode.POSITIVE
    if positive:
        make_cheap(case, endpoint, target)
    sent = case.as_transport_kwargs(base_url=target.base_url)
    key = json.dumps(
        [sent.get("json"), sent.get("data"), sent.get("params"), case.path_parameters], default=str
    )
    if not explore.fresh(case.method.upper(), endpoint, key.encode()):
        return  # this request was sent already: not re-sent
    exchange, response = send(case, endpoint, target)
    if exchange.status is None:  # nothing to judge but the transport
        explore.judge(["transport.complete"], exchange, needs="none")
        return
    if not positive:
        ours, builtins = NEGATIVE_CHECKS, [*BUILTIN_CHECKS, negative_data_rejection]
        explore.judge(ours, exchange, error_response=True, endpoint=endpoint)
    elif exchange.status < 400:
        ours, builtins = SUCCESS_CHECKS[operation], BUILTIN_CHECKS
        explore.judge(ours, exchange, endpoint=endpoint)
    elif exchange.status >= 500:  # a valid request the server failed on: one root cause, a finding
        ours, builtins = ["request.accepted"], [c for c in BUILTIN_CHECKS if c is not not_a_server_error]
        explore.judge(ours, exchange, needs="none", endpoint=endpoint)
    else:  # a valid request refused with the envelope is allowed here (see the module's docstring)
        ours, builtins = REFUSAL_CHECKS, BUILTIN_CHECKS
        explore.judge(ours, exchange, needs="refusal", endpoint=endpoint)
    try:
        case.validate_response(
            response,
            checks=profiled(builtins, target, endpoint, operation, exchange),
            headers=dict(response.request.headers),
        )
    except (
        AssertionError,
        BaseExceptionGroup,
    ) as exc:  # schemathesis's own checks: grouped, failed at the end
        found = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
        for failure in found:
            title = getattr(failure, "title", None) or str(failure).strip().splitlines()[0]
            builtin_failures.append(f"schemathesis {endpoint}: {title[:300]}")
