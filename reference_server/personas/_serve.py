"""`compat-suite serve --persona NAME`: the gateway, the seeded keys and the adapted app."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from .._secrets import new_key
from ..auth import ResolvedKeys
from ..engines.base import Engine
from ..faults import FaultSet
from ..gateway import Gateway
from ._provision import seed_key
from ._registry import load_persona

ADMIN_KEY_PREFIX = "compat-suite reference server admin key (generated): "


def persona_app(
    args: argparse.Namespace, engine: Engine, keys: ResolvedKeys, faults: FaultSet
) -> tuple[Any, ResolvedKeys]:
    """The persona's app and the keys it accepts (a generated one carries the persona's prefix).
    ValueError for a key of the wrong format or an unknown persona."""
    persona = load_persona(args.persona)
    admin_key = args.admin_key
    if not admin_key:
        admin_key = new_key("adm_")
        print(ADMIN_KEY_PREFIX + admin_key, flush=True)
        args.admin_key = admin_key  # the caller redacts it from the logs too
    db_path = (
        Path(args.gateway_db) if args.gateway_db else Path(tempfile.mkdtemp(prefix="persona-")) / "gw.db"
    )
    gateway = Gateway(db_path, persona.gateway_config(admin_key))
    if keys.generated:
        keys = ResolvedKeys((new_key(persona.gateway.key_prefix),), generated=True)
    for raw in keys.keys:
        seed_key(gateway, persona, raw, model=engine.model_name)
    app = persona.build(engine, gateway, faults=faults, max_body_bytes=args.max_body_bytes)
    return app, keys
