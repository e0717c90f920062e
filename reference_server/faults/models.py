"""Faults that fail the models checks: the model list and a retrieved model."""

from __future__ import annotations

from ._hooks import drop, on, put
from ._registry import Fault, fault

fault(
    Fault(
        "models-list-object-wrong",
        "models.list.schema",
        'the list\'s `object` is "models"',
        response=on(("models",), put("object", "models")),
    )
)
fault(
    Fault(
        "models-list-empty",
        "models.list.contains-model",
        "the list is empty",
        response=on(("models",), put("data", [])),
    )
)
fault(
    Fault(
        "models-retrieve-other-id",
        "models.retrieve.id-matches",
        "a retrieved model answers with another id (the alias resolved to a snapshot)",
        response=on(
            ("model",), lambda payload, request: {**payload, "id": f"{payload.get('id')}-2026-01-01"}
        ),
    )
)
fault(
    Fault(
        "models-retrieve-owner-missing",
        "models.retrieve.schema",
        "a model without `owned_by`",
        response=on(("model",), drop("owned_by")),
    )
)
