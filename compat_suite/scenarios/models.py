"""Scenarios of the model list and of one model."""

from __future__ import annotations

from urllib.parse import quote

from ..target import NotApplicable
from ._context import Context
from ._registry import Proofs, proof, scenario

LIST = ("transport.complete", "transport.json-body", "models.list.schema", "clients.python-sdk.parse")
RETRIEVE = (
    "transport.complete",
    "transport.json-body",
    "models.retrieve.schema",
    "models.retrieve.id-matches",
    "clients.python-sdk.parse",
)


@scenario("models.list", endpoint="models", proves=(*LIST, "models.list.contains-model"))
def models_list(ctx: Context) -> Proofs:
    """The list validates and names the model(s) under test."""
    t = ctx.target
    listing = t.get("models")
    yield proof(LIST, listing)
    if t.model:
        embedding = t.embedding_model if t.profile.declares("embeddings") else None
        yield proof("models.list.contains-model", listing, model=t.model, embedding_model=embedding)


@scenario("models.retrieve", endpoint="model", proves=RETRIEVE)
def models_retrieve(ctx: Context) -> Proofs:
    """One model validates, and is the one asked for."""
    t = ctx.target
    if not t.model:
        raise NotApplicable("no model given (--model)")
    path = t.profile.endpoint_path("model").replace("{model}", quote(t.model, safe="/"))
    yield proof(RETRIEVE, t.get("model", path))
