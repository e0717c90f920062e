"""The models one engine serves: their ids and cards, and the checks a requested model passes."""

from __future__ import annotations

import time
from typing import Any

from .engines.base import Engine
from .errors import APIError

Json = dict[str, Any]
OWNER = "compat-suite"


class Models:
    """The chat model and the embedding model of `engine`, as the API lists them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.created = int(time.time())

    def ids(self) -> list[str]:
        return list(dict.fromkeys([self.engine.model_name, self.engine.embedding_model_name]))

    def card(self, model: str) -> Json:
        return {"id": model, "object": "model", "created": self.created, "owned_by": OWNER}

    def known(self, model: str) -> str:
        """`model`, when it is one of these; else 404."""
        if model not in self.ids():
            raise _not_found(model)
        return model

    def require(self, body: Json, kind: str) -> str:
        """The requested model, which must be this engine's model of `kind` (chat or embedding)."""
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise APIError(400, "model must be a non-empty string", param="model")
        wanted, other = (
            (self.engine.model_name, self.engine.embedding_model_name)
            if kind == "chat"
            else (self.engine.embedding_model_name, self.engine.model_name)
        )
        if model == other:
            raise APIError(400, f"The model `{model}` is not a {kind} model; use `{wanted}`.", param="model")
        if model != wanted:
            raise _not_found(model)
        status = self.engine.status()
        if status != "ready":
            raise APIError(
                503,
                f"The model `{model}` is {status}; try again shortly.",
                code="model_not_ready",
                headers={"retry-after": "5"},
            )
        return model


def _not_found(model: str) -> APIError:
    return APIError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )
