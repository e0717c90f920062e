"""The models checks on synthetic exchanges (the model list and one model): each passes on a good input and
fails on its fault's effect (the builders are in tests/_check_cases.py)."""

from __future__ import annotations

from _check_cases import BASE, MODEL, MODELS, Cases, case_tests, exchange, faulty, lazy, one

CASES: Cases = {
    "models.list.schema": (
        one(exchange("models", None, MODELS)),
        lazy(lambda: exchange("models", None, faulty("models-list-object-wrong", "models", MODELS, {}))),
    ),
    "models.list.contains-model": (
        one(exchange("models", None, MODELS), model="m", embedding_model="e"),
        lazy(lambda: exchange("models", None, faulty("models-list-empty", "models", MODELS, {})), model="m"),
    ),
    "models.retrieve.schema": (
        one(exchange("model", None, MODEL, url=BASE + "/models/m")),
        lazy(
            lambda: exchange(
                "model",
                None,
                faulty("models-retrieve-owner-missing", "model", MODEL, {}),
                url=BASE + "/models/m",
            )
        ),
    ),
    "models.retrieve.id-matches": (
        one(exchange("model", None, MODEL, url=BASE + "/models/m")),
        lazy(
            lambda: exchange(
                "model", None, faulty("models-retrieve-other-id", "model", MODEL, {}), url=BASE + "/models/m"
            )
        ),
    ),
}

test_check_passes_on_good_input, test_check_fails_on_fault_effect = case_tests(CASES)
