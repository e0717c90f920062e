"""Engines behind one interface, and the factory that builds one by name.

The transformers engine is imported only when asked for, so that the scripted path (tests, load
calibration) never imports torch.
"""

from __future__ import annotations

from typing import Any

from .base import Engine

ENGINE_NAMES = ("transformers", "scripted")


def load_engine(
    name: str,
    *,
    model_name: str | None = None,
    embedding_model_name: str | None = None,
    **options: Any,
) -> Engine:
    """Build the engine called `name`. Scripted options: `token_delay_s`, `dimensions`;
    transformers options: `device`."""
    if name == "scripted":
        from .scripted import ScriptedEngine

        names = {"model_name": model_name, "embedding_model_name": embedding_model_name}
        return ScriptedEngine(
            **{k: v for k, v in names.items() if v}, **_only(options, name, "token_delay_s", "dimensions")
        )
    if name == "transformers":
        from .transformers_engine import TransformersEngine

        return TransformersEngine(
            model_name=model_name, embedding_model_name=embedding_model_name, **_only(options, name, "device")
        )
    raise ValueError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")


def _only(options: dict[str, Any], engine: str, *allowed: str) -> dict[str, Any]:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(
            f"engine {engine!r} takes no option(s) {', '.join(unknown)} (it takes: {', '.join(allowed)})"
        )
    return {k: v for k, v in options.items() if v is not None}


__all__ = ["ENGINE_NAMES", "Engine", "load_engine"]
