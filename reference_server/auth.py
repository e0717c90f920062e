"""API keys: where the server's keys come from, and the bearer check every protected route runs."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request

from ._secrets import new_key
from .errors import APIError

KEYS_ENV = "COMPAT_SERVER_API_KEYS"
GENERATED_PREFIX = "sk-compat-"


@dataclass(frozen=True)
class ResolvedKeys:
    keys: tuple[str, ...] = field(repr=False)  # secrets: never in a repr or a traceback
    generated: bool  # no key was configured, so one was made up (and must be shown to the user)


def generate_key() -> str:
    return new_key(GENERATED_PREFIX)


def read_key_file(path: str | os.PathLike[str]) -> list[str]:
    """One key per line; blank lines and `#` comments are skipped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def resolve_keys(
    flags: Iterable[str] = (),
    key_file: str | os.PathLike[str] | None = None,
    environ: dict[str, str] | None = None,
) -> ResolvedKeys:
    """Keys from `--api-key` flags, `--api-key-file` and `$COMPAT_SERVER_API_KEYS` together; one
    generated key when none is configured."""
    env = os.environ if environ is None else environ
    keys = [k.strip() for k in flags if k.strip()]
    if key_file is not None:
        keys += read_key_file(key_file)
    keys += [k.strip() for k in env.get(KEYS_ENV, "").split(",") if k.strip()]
    if keys:
        return ResolvedKeys(tuple(dict.fromkeys(keys)), generated=False)
    return ResolvedKeys((generate_key(),), generated=True)


class KeyAuth:
    """Bearer-key check against a fixed set of keys, in constant time per key."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys or not all(keys):
            raise ValueError("KeyAuth needs at least one non-empty key")
        self._keys = tuple(k.encode("utf-8") for k in keys)

    def check(self, request: Request) -> None:
        """Raise 401 `invalid_api_key` unless the request carries one of the keys."""
        presented = bearer_token(request)
        if presented is None:
            raise APIError(
                401,
                "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.",
                code="invalid_api_key",
            )
        candidate = presented.encode("utf-8")
        matched = False
        for key in self._keys:  # no early exit: the time taken does not say which key came close
            matched |= hmac.compare_digest(candidate, key)
        if not matched:
            raise APIError(401, "Incorrect API key provided.", code="invalid_api_key")


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
