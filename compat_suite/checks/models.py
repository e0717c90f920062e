"""Checks of the model list (`GET /models`) and one model (`GET /models/{model}`)."""

from __future__ import annotations

from urllib.parse import unquote

from ..exchange import Exchange
from . import _common as c
from ._registry import MUST, Finding, check


@check("models.list.schema", severity=MUST, endpoints=("models",))
def models_list_schema(exchange: Exchange) -> None:
    """The model list validates against ListModelsResponse."""
    c.schema_check(exchange, "ListModelsResponse", c.body(exchange))


@check("models.list.contains-model", severity=MUST, endpoints=("models",))
def models_list_contains_model(exchange: Exchange, *, model: str, embedding_model: str | None = None) -> None:
    """The model list names the configured model(s)."""
    data = c.body(exchange).get("data")
    items = data if isinstance(data, list) else []
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    missing = [m for m in (model, embedding_model) if m and m not in ids]
    if missing:
        raise Finding(
            f"model(s) {missing} not in the list of {len(ids)} model(s)",
            c.evidence(exchange, missing=missing, ids=ids[:50]),
        )


@check("models.retrieve.schema", severity=MUST, endpoints=("model",))
def models_retrieve_schema(exchange: Exchange) -> None:
    """One model validates against Model."""
    if exchange.status is not None and not 200 <= exchange.status < 300:
        # An error answer is no model: say so, rather than list the Model fields it lacks.
        raise Finding(f"status {exchange.status}: no model object came back", c.evidence(exchange))
    c.schema_check(exchange, "Model", c.body(exchange))


@check("models.retrieve.id-matches", severity=MUST, endpoints=("model",))
def models_retrieve_id_matches(exchange: Exchange) -> None:
    """The model retrieved is the one asked for: its `id` is the path's (a server that resolves an alias
    to another model's object answers a question nobody asked)."""
    asked = exchange.request.url.rstrip("/").rsplit("/models/", 1)
    if len(asked) != 2:
        return  # not a retrieve by id
    got = c.body(exchange).get("id")
    if got != _unquote(asked[1]):
        raise Finding(
            f"asked for model {_unquote(asked[1])!r}, got id {c.short(got)}", c.evidence(exchange, id=got)
        )


def _unquote(segment: str) -> str:
    return unquote(segment.split("?", 1)[0])
