"""API keys: minted with a provider's prefix, stored as a SHA-256 digest, compared in constant time.

Keys carry 192 bits from `secrets` (and a checksum, `reference_server._secrets`), so a plain SHA-256 (no salt, no slow KDF) is enough: nothing
can be guessed, and the digest doubles as the lookup index. After the indexed lookup the digests
are compared again with `hmac.compare_digest`, so no code path compares key material byte by byte.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from .._secrets import new_key


@dataclass(frozen=True)
class MintedKey:
    """A new key: `raw` is shown to its owner once and never stored."""

    raw: str
    digest: str
    display_prefix: str
    last4: str


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def mint(prefix: str) -> MintedKey:
    raw = new_key(prefix)
    return MintedKey(raw=raw, digest=hash_key(raw), display_prefix=raw[: len(prefix) + 4], last4=raw[-4:])


def matches(raw: str, stored_digest: str) -> bool:
    """Whether `raw` is the key behind `stored_digest`, in time independent of where they differ."""
    return hmac.compare_digest(hash_key(raw).encode("ascii"), stored_digest.encode("ascii"))


def bearer_token(authorization: str | None, api_key_header: str | None = None) -> str | None:
    """The key from `Authorization: Bearer ...` (or an `api-key`/`x-api-key` header), if any."""
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    if api_key_header and api_key_header.strip():
        return api_key_header.strip()
    return None
