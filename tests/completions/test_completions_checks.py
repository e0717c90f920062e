"""The completions checks on synthetic exchanges (the unary text completion): each passes on a good input
and fails on its fault's effect (the builders are in tests/_check_cases.py)."""

from __future__ import annotations

from _check_cases import (
    COMP,
    COMP_REQ,
    Cases,
    case_tests,
    choice0,
    comp,
    hook_case,
    length_case,
    one,
    usage_of,
    with_,
)

from compat_suite.checks import run

SEED_COMP_REQ = {**COMP_REQ, "seed": 7, "temperature": 1.0}
ECHO_REQ = {**COMP_REQ, "echo": True}

CASES: Cases = {
    "completions.response.schema": hook_case(comp, "completions-schema-no-logprobs", COMP, COMP_REQ),
    "completions.response.object": hook_case(comp, "completions-object-wrong", COMP, COMP_REQ),
    "completions.response.id": hook_case(comp, "completions-id-missing", COMP, COMP_REQ),
    "completions.response.created": hook_case(comp, "completions-created-ms", COMP, COMP_REQ),
    "completions.usage.present": hook_case(comp, "completions-usage-missing", COMP, COMP_REQ),
    "completions.usage.sum": hook_case(comp, "completions-usage-sum-off-by-one", COMP, COMP_REQ),
    "completions.usage.counts": hook_case(comp, "completions-usage-zero", COMP, COMP_REQ),
    "completions.finish-reason.length": length_case(comp, "completions-length-as-stop", COMP, COMP_REQ),
    "completions.finish-reason.enum": hook_case(comp, "completions-finish-reason-bogus", COMP, COMP_REQ),
    "completions.n.indexed": (
        one(
            comp(
                with_(COMP, choices=[{**COMP["choices"][0], "index": i} for i in range(3)]),
                {**COMP_REQ, "n": 3},
            )
        ),
        one(comp(COMP, {**COMP_REQ, "n": 3})),
    ),
    "completions.max-tokens.respected": (
        one(comp()),
        one(comp(with_(COMP, usage={"prompt_tokens": 1, "completion_tokens": 9, "total_tokens": 10}))),
    ),
    "completions.stop.honoured": (
        one(comp(choice0(COMP, text=" hello"), {**COMP_REQ, "stop": " there"})),
        one(comp(COMP, {**COMP_REQ, "stop": " there"})),
    ),
    "completions.seed.determinism": (
        one(comp(request=SEED_COMP_REQ), comp(request=SEED_COMP_REQ)),
        one(comp(request=SEED_COMP_REQ), comp(choice0(COMP, text=" other"), SEED_COMP_REQ)),
    ),
    "completions.echo.prefix": (
        one(comp(choice0(COMP, text="Say hello there"), ECHO_REQ)),
        one(comp(COMP, ECHO_REQ)),
    ),
}

test_check_passes_on_good_input, test_check_fails_on_fault_effect = case_tests(CASES)


def test_completions_batch_prompts_are_indexed_across_prompts() -> None:
    request = {**COMP_REQ, "prompt": ["a", "b"], "n": 2}
    good = with_(COMP, choices=[{**COMP["choices"][0], "index": i} for i in range(4)])
    assert run("completions.n.indexed", comp(good, request)).passed
    assert not run("completions.n.indexed", comp(with_(good, choices=good["choices"][:2]), request)).passed


def test_max_tokens_is_judged_per_choice_across_a_batch_of_prompts() -> None:
    """Three prompts, max_tokens=4: three choices of 4 tokens (12 in all) keep the limit; 13 do not."""
    request = {**COMP_REQ, "prompt": ["a", "b", "c"], "max_tokens": 4}
    choices = [{**COMP["choices"][0], "index": i, "finish_reason": "length"} for i in range(3)]
    full = with_(COMP, choices=choices, usage=usage_of(12))
    assert run("completions.max-tokens.respected", comp(full, request)).passed
    outcome = run("completions.max-tokens.respected", comp(with_(full, usage=usage_of(13)), request))
    assert not outcome.passed and "x 3 choices" in outcome.message, outcome.message
    token_arrays = {**request, "prompt": [[1, 2], [3], [4, 5]]}  # a batch of token-id prompts, too
    assert run("completions.max-tokens.respected", comp(full, token_arrays)).passed
    # n applies per prompt: 2 prompts x n=2 are 4 choices
    n2 = {**request, "prompt": ["a", "b"], "n": 2}
    four = with_(full, choices=[{**choices[0], "index": i} for i in range(4)], usage=usage_of(16))
    assert run("completions.max-tokens.respected", comp(four, n2)).passed
    assert not run("completions.max-tokens.respected", comp(with_(four, usage=usage_of(17)), n2)).passed
