"""Keys a persona's server starts with: given raw keys, stored the gateway's way (hashed)."""

from __future__ import annotations

from ..gateway import Gateway, KeyRecord
from ..gateway._keys import hash_key
from ._persona import Persona

DEFAULT_CREDIT_MICROS = 1_000_000_000_000  # enough for any test run; the admin API makes spent keys


def seed_key(
    gateway: Gateway,
    persona: Persona,
    raw: str,
    *,
    model: str | None,
    credit_micros: int = DEFAULT_CREDIT_MICROS,
    rate_limit: str | None = None,
) -> KeyRecord:
    """Accept `raw` as a key of a new account (idempotent across restarts on the same database).
    `model` binds the key where the persona binds keys to one model."""
    prefix = persona.gateway.key_prefix
    if not raw.startswith(prefix) or len(raw) < len(prefix) + 8:
        raise ValueError(f"a {persona.name} key starts with {prefix!r} and has at least 8 more characters")
    store = gateway.store
    existing = store.find_key_by_hash(hash_key(raw))
    if existing is not None:
        return existing
    account_id = store.create_account(credit_micros)
    return store.create_key(
        account_id,
        key_hash=hash_key(raw),
        display_prefix=raw[: len(prefix) + 4],
        last4=raw[-4:],
        name=None,
        model=model if persona.bind_keys_to_model else None,
        rate_limit=rate_limit,
        allowed_ips=(),
    )
