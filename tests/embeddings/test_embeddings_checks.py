"""The embeddings checks on synthetic exchanges (the embeddings answer): each passes on a good input and
fails on its fault's effect (the builders are in tests/_check_cases.py)."""

from __future__ import annotations

from _check_cases import (
    B64_REQ,
    EMB,
    EMB_REQ,
    VECTORS,
    Cases,
    b64,
    case_tests,
    emb,
    faulty,
    hook_case,
    lazy,
    one,
)

from compat_suite.checks import run

CASES: Cases = {
    "embeddings.response.schema": hook_case(emb, "embeddings-schema-model-missing", EMB, EMB_REQ),
    "embeddings.response.object": hook_case(emb, "embeddings-object-wrong", EMB, EMB_REQ),
    "embeddings.usage.present": hook_case(emb, "embeddings-usage-missing", EMB, EMB_REQ),
    "embeddings.dimensions.consistent": hook_case(emb, "embeddings-dimensions-ragged", EMB, EMB_REQ),
    "embeddings.order.index": hook_case(emb, "embeddings-order-reversed", EMB, EMB_REQ),
    "embeddings.base64.equals-float": (
        one(emb(b64(VECTORS), B64_REQ), emb()),
        lazy(
            lambda: (
                emb(faulty("embeddings-base64-big-endian", "embeddings", b64(VECTORS), B64_REQ), B64_REQ),
                emb(),
            )
        ),
    ),
    "embeddings.dimensions.param": (
        one(emb(request={**EMB_REQ, "dimensions": 3})),
        one(emb(request={**EMB_REQ, "dimensions": 2})),  # dimensions-ignored: full-length vectors
    ),
}

test_check_passes_on_good_input, test_check_fails_on_fault_effect = case_tests(CASES)


def test_dimensions_refused_with_a_400_naming_it_passes() -> None:
    refusal = {"error": {"message": "dimensions not supported for this model", "type": "invalid_request_error",
                         "param": None, "code": None}}  # fmt: skip
    request = {**EMB_REQ, "dimensions": 2}
    assert run("embeddings.dimensions.param", emb(refusal, request, status=400)).passed
    unnamed = {"error": {**refusal["error"], "message": "bad request"}}
    assert not run("embeddings.dimensions.param", emb(unnamed, request, status=400)).passed


def test_base64_and_float_from_two_calls_may_differ_by_run_to_run_noise() -> None:
    # Two separate requests to a GPU server: components move by ~1e-4, far more than float32 rounding.
    noisy = [[x + 2e-4 for x in vector] for vector in VECTORS]
    assert run("embeddings.base64.equals-float", emb(b64(noisy), B64_REQ), emb()).passed
    garbage = [[0.8, -0.6, 0.0], [0.9, 0.0, -0.4]]
    assert not run("embeddings.base64.equals-float", emb(b64(garbage), B64_REQ), emb()).passed
