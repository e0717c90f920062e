"""Conformance of the model list and of one model."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from compat_suite.target import Target

pytestmark = pytest.mark.endpoint("models")


def test_models_list(target: Target, verify: Any) -> None:
    """The list validates and names the model(s) under test."""
    target.require("models")
    ex = target.get("models")
    verify(
        ["transport.complete", "transport.json-body", "models.list.schema", "clients.python-sdk.parse"], ex
    )
    if target.model:
        embedding = target.embedding_model if target.profile.declares("embeddings") else None
        verify(["models.list.contains-model"], ex, model=target.model, embedding_model=embedding)


def test_models_retrieve(target: Target, verify: Any) -> None:
    """One model validates, and is the one asked for."""
    target.require("model")
    if not target.model:
        pytest.skip("no model given (--model)")
    path = target.profile.endpoint_path("model").replace("{model}", quote(target.model, safe="/"))
    ex = target.get("model", path)
    verify(
        ["transport.complete", "transport.json-body", "models.retrieve.schema", "clients.python-sdk.parse"],
        ex,
    )
