"""The persona registry: one module per provider, each exporting `PERSONA`."""

from __future__ import annotations

from importlib import import_module

from ._persona import Persona

PERSONA_NAMES = ("openai", "carrot", "carpathian", "karta", "inferbase")


def load_persona(name: str) -> Persona:
    """The persona called `name`; ValueError naming the known ones otherwise."""
    if name not in PERSONA_NAMES:
        raise ValueError(f"no persona {name!r} (available: {', '.join(PERSONA_NAMES)})")
    return import_module(f"{__package__}.{name}").PERSONA
