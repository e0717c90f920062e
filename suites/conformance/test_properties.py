"""Property-based conformance: requests drawn across the documented parameter space.

Valid requests (`compat_suite.strategies.valid_requests`: drawn from schemas/openapi.yaml, cheap)
must get valid answers that keep every invariant of the unary and streamed checks; invalid ones (one
mistake each: a wrong type, a value out of range, a missing field, an unknown role, bytes that are
not a JSON object, a JSON body under another content type) must get a 4xx with the error envelope,
never a 5xx and never a 200.

Examples are few and derandomized (the same requests in every CI run; nothing is written to the
repository), and `--max-requests` caps them: a property draws only as many examples as the budget
has room for, and is skipped, with the reason, when none fit. Shrinking is off: it would re-send
requests to a paid target, and every failing exchange is already in the results with its evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compat_suite.checks import REFUSAL, response_shape, stream_checks
from compat_suite.strategies import (
    InvalidRequest,
    applicable_kinds,
    examples_within_budget,
    invalid_requests,
    valid_requests,
)
from compat_suite.target import RequestBudgetExhausted, Target

T = TypeVar("T")

VALID_EXAMPLES = 12
STREAM_EXAMPLES = 8
INVALID_EXAMPLES = 5  # per endpoint and kind of mistake

PROPERTY_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    report_multiple_bugs=False,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

UNARY_CHECKS = {
    "chat": [*response_shape("chat"), "chat.stop.honoured", "chat.logprobs.valid"],
    "completions": [*response_shape("completions"), "completions.stop.honoured", "completions.echo.prefix"],
    "embeddings": list(response_shape("embeddings")),
}
INVALID_CHECKS = [*REFUSAL, "errors.no-5xx-for-client-error"]
# Mistakes in one parameter's value: the error names that parameter.
PARAM_KINDS = ("wrong-type", "out-of-range")
GENERATION = ("chat", "completions", "embeddings")


def check_property(
    target: Target,
    strategy: st.SearchStrategy[T],
    example: Callable[[T], None],
    *,
    examples: int,
    per_example: int = 1,
) -> None:
    """Run `example` on values of `strategy`, as many as fit in the request budget (at most `examples`)."""
    count = examples_within_budget(target.sent, target.max_requests, examples, per_example)
    if count == 0:
        pytest.skip(f"--max-requests {target.max_requests} is spent: no room for this property")

    @settings(PROPERTY_SETTINGS, max_examples=count)
    @given(strategy)
    def prop(value: T) -> None:
        if target.max_requests is not None and target.sent + per_example > target.max_requests:
            raise RequestBudgetExhausted(f"--max-requests {target.max_requests} reached")
        example(value)

    prop()


def _ready(target: Target, endpoint: str, *, stream: bool = False) -> str:
    """The endpoint's path, after skipping when this target cannot be tested there."""
    target.require(endpoint)
    if stream and not target.profile.streaming_supported:
        pytest.skip(f"profile {target.profile.name!r} documents no streaming")
    return target.profile.endpoint_path(endpoint)


@pytest.mark.parametrize("endpoint", GENERATION)
def test_valid_requests_keep_the_invariants(endpoint: str, target: Target, verify: Any) -> None:
    """Any cheap valid request gets a valid answer: schema, usage sums, n indexed, limits, stops."""
    path = _ready(target, endpoint)

    def example(body: dict[str, Any]) -> None:
        verify(UNARY_CHECKS[endpoint], target.request(endpoint, "POST", path, json=body))

    strategy = valid_requests(endpoint, target.model_for(endpoint))
    check_property(target, strategy, example, examples=VALID_EXAMPLES)


@pytest.mark.parametrize("endpoint", ("chat", "completions"))
def test_valid_streams_keep_the_invariants(endpoint: str, target: Target, verify: Any) -> None:
    """Any cheap valid streamed request gets a well-framed stream of valid chunks."""
    path = _ready(target, endpoint, stream=True)
    # Every check one stream can prove. Left out: stream.is-streamed (a 1-token answer is rightly a
    # single event) and stream.text.matches-unary (needs temperature 0 and a second request).
    checks = list(stream_checks(endpoint))

    def example(body: dict[str, Any]) -> None:
        verify(checks, target.request(endpoint, "POST", path, json=body, stream=True))

    strategy = valid_requests(endpoint, target.model_for(endpoint), stream=True)
    check_property(target, strategy, example, examples=STREAM_EXAMPLES)


@pytest.mark.parametrize(
    ("endpoint", "kind"),
    [(endpoint, kind) for endpoint in GENERATION for kind in applicable_kinds(endpoint)],
    ids=lambda value: value,
)
def test_invalid_requests_get_the_error_envelope(
    endpoint: str, kind: str, target: Target, verify: Any
) -> None:
    """Each kind of client mistake gets a 4xx with the OpenAI error envelope: never a 5xx, never a 200."""
    path = _ready(target, endpoint)

    def example(mistake: InvalidRequest) -> None:
        headers = {"Content-Type": mistake.content_type}
        exchange = target.request(endpoint, "POST", path, content=mistake.body, headers=headers)
        verify(INVALID_CHECKS, exchange, error_response=True)
        if kind in PARAM_KINDS and mistake.param:
            verify(["errors.param.named"], exchange, param=mistake.param, error_response=True)

    strategy = invalid_requests(
        endpoint,
        target.model_for(endpoint),
        kinds=(kind,),
        model_required=target.profile.model_rule == "required",
    )
    check_property(target, strategy, example, examples=INVALID_EXAMPLES)
