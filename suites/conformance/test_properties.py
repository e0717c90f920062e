"""Property-based conformance: requests drawn across the documented parameter space.

Valid requests (`compat_suite.strategies.valid_requests`: drawn from schemas/openapi.yaml, cheap)
must get valid answers that keep every invariant of the unary and streamed checks; invalid ones (one
mistake each: a wrong type, a value out of range, a missing field, an unknown role, bytes that are
not a JSON object, a JSON body under another content type) must get a 4xx with the error envelope,
never a 5xx and never a 200.

Examples are few and derandomized (the same requests in every CI run; nothing is written to the
repository), and `--max-requests` caps them: a property draws only as many examples as the budget
has room for, and is skipped, with the reason, when none fit. A property uses its whole example budget
even after a failure: every distinct request is sent once (a repeat is not re-sent), failures are
grouped by check and root cause and recorded once each with their smallest example
(compat_suite.explore), and the test fails at the end. Shrinking is off: it would re-send requests to
a paid target. Every required field of every request is dropped in turn, as explicit examples.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compat_suite.checks import REFUSAL, TOOL_CALLS, TOOL_EFFECTS, TOOL_STREAM, response_shape, stream_checks
from compat_suite.explore import Exploration
from compat_suite.strategies import (
    InvalidRequest,
    applicable_kinds,
    each_required_missing,
    examples_within_budget,
    invalid_requests,
    valid_requests,
)
from compat_suite.target import RequestBudgetExhausted, Target
from compat_suite.verify import ProofFailed

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
    "chat": [
        *response_shape("chat"),
        "chat.stop.honoured",
        "chat.logprobs.valid",
        *TOOL_CALLS,
        *TOOL_EFFECTS,
    ],
    "completions": [*response_shape("completions"), "completions.stop.honoured", "completions.echo.prefix"],
    "embeddings": list(response_shape("embeddings")),
}
INVALID_CHECKS = [*REFUSAL, "errors.no-5xx-for-client-error"]
# Mistakes in one parameter's value: the error names that parameter.
PARAM_KINDS = ("wrong-type", "out-of-range")
GENERATION = ("chat", "completions", "embeddings")


def check_property(
    target: Target,
    explore: Exploration,
    strategy: st.SearchStrategy[T],
    example: Callable[[T], None],
    *,
    examples: int,
    skip_checks: Any,
    checks: list[str],
    explicit: Sequence[T] = (),
) -> None:
    """Run `example` on the `explicit` values, then on values of `strategy`, as many as fit in the
    request budget (at most `examples`, explicit ones included), then record the grouped failures and
    fail the test if any group failed."""
    count = examples_within_budget(target.sent, target.max_requests, examples)
    if count == 0:
        skip_checks(checks, f"--max-requests {target.max_requests} is spent: no room for this property")
    spent = False

    def within_budget(value: T) -> None:
        nonlocal spent
        if spent or (target.max_requests is not None and target.sent >= target.max_requests):
            spent = True  # the rest are not sent; what was found is still recorded
            return
        try:
            example(value)
        except RequestBudgetExhausted:
            spent = True

    for value in list(explicit)[:count]:
        within_budget(value)
    remaining = count - len(explicit)
    if remaining > 0:

        @settings(PROPERTY_SETTINGS, max_examples=remaining)
        @given(strategy)
        def prop(value: T) -> None:
            within_budget(value)

        prop()
    failed = explore.finish()
    if failed:
        raise ProofFailed("\n".join(failed))


def _ready(
    target: Target, endpoint: str, skip_checks: Any, checks: list[str], *, stream: bool = False
) -> str:
    """The endpoint's path, after skipping (each check, with the reason) when this target cannot be tested there."""
    why = target.missing(endpoint)
    if why is None and stream and not target.profile.streaming_supported:
        why = f"profile {target.profile.name!r} documents no streaming"
    if why:
        skip_checks(checks, why)
    return target.profile.endpoint_path(endpoint)


@pytest.mark.parametrize("endpoint", GENERATION)
def test_valid_requests_keep_the_invariants(
    endpoint: str, target: Target, explore: Exploration, skip_checks: Any
) -> None:
    """Any cheap valid request gets a valid answer: schema, usage sums, n indexed, limits, stops."""
    path = _ready(target, endpoint, skip_checks, UNARY_CHECKS[endpoint])

    def example(body: dict[str, Any]) -> None:
        if explore.fresh("POST", path, json.dumps(body, sort_keys=True).encode()):
            explore.judge(UNARY_CHECKS[endpoint], target.request(endpoint, "POST", path, json=body))

    strategy = valid_requests(endpoint, target.model_for(endpoint))
    check_property(
        target, explore, strategy, example, examples=VALID_EXAMPLES, skip_checks=skip_checks,
        checks=UNARY_CHECKS[endpoint],
    )  # fmt: skip


@pytest.mark.parametrize("endpoint", ("chat", "completions"))
def test_valid_streams_keep_the_invariants(
    endpoint: str, target: Target, explore: Exploration, skip_checks: Any
) -> None:
    """Any cheap valid streamed request gets a well-framed stream of valid chunks."""
    # Every check one stream can prove. Left out: stream.is-streamed (a 1-token answer is rightly a
    # single event) and stream.text.matches-unary (needs temperature 0 and a second request).
    checks = [*stream_checks(endpoint), *(TOOL_STREAM if endpoint == "chat" else ())]
    path = _ready(target, endpoint, skip_checks, checks, stream=True)

    def example(body: dict[str, Any]) -> None:
        if explore.fresh("POST", path, json.dumps(body, sort_keys=True).encode()):
            explore.judge(checks, target.request(endpoint, "POST", path, json=body, stream=True))

    strategy = valid_requests(endpoint, target.model_for(endpoint), stream=True)
    check_property(
        target, explore, strategy, example, examples=STREAM_EXAMPLES, skip_checks=skip_checks, checks=checks
    )


@pytest.mark.parametrize(
    ("endpoint", "kind"),
    [(endpoint, kind) for endpoint in GENERATION for kind in applicable_kinds(endpoint)],
    ids=lambda value: value,
)
def test_invalid_requests_get_the_error_envelope(
    endpoint: str, kind: str, target: Target, explore: Exploration, skip_checks: Any
) -> None:
    """Each kind of client mistake gets a 4xx with the OpenAI error envelope: never a 5xx, never a 200."""
    path = _ready(target, endpoint, skip_checks, INVALID_CHECKS)

    def example(mistake: InvalidRequest) -> None:
        if not explore.fresh("POST", path, mistake.body, mistake.content_type):
            return
        headers = {"Content-Type": mistake.content_type}
        exchange = target.request(endpoint, "POST", path, content=mistake.body, headers=headers)
        checks = list(INVALID_CHECKS)
        context: dict[str, Any] = {}
        if kind in PARAM_KINDS and mistake.param:
            checks.append("errors.param.named")
            context["per_check"] = {"errors.param.named": {"param": mistake.param}}
        explore.judge(checks, exchange, error_response=True, **context)

    model_required = target.profile.model_rule == "required"
    model = target.model_for(endpoint)
    strategy = invalid_requests(endpoint, model, kinds=(kind,), model_required=model_required)
    explicit = (
        each_required_missing(endpoint, model, model_required=model_required)
        if kind == "missing-required"
        else []
    )
    examples = max(INVALID_EXAMPLES, len(explicit))
    check_property(
        target, explore, strategy, example, examples=examples, skip_checks=skip_checks,
        checks=INVALID_CHECKS, explicit=explicit,
    )  # fmt: skip
