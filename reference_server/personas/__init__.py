"""Personas: the reference server standing in for one provider's documented surface.

    persona = load_persona("carpathian")
    gateway = Gateway(db_path, persona.gateway_config(admin_key))
    app = persona.build(engine, gateway)

Each persona module cites its provider's docs; `schemas/profiles/<persona.profile>.yaml` describes
the same surface as the suite's expectations.
"""

from ._persona import Persona, Route, Shaping
from ._provision import seed_key
from ._registry import PERSONA_NAMES, load_persona
from ._serve import persona_app

__all__ = ["PERSONA_NAMES", "Persona", "Route", "Shaping", "load_persona", "persona_app", "seed_key"]
