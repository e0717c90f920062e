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
