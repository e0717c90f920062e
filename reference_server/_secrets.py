"""Keys this server makes, and finding them again in any text.

Every key the server mints (a gateway's keys whatever their prefix, a generated server key or
admin key) ends in 32 random URL-safe characters followed by a 6-character checksum of them, the
way GitHub's tokens do. A log line can then be searched for keys of any prefix with no false
positives: a run of URL-safe characters whose last 38 verify is a key, whatever comes before it.
Keys the operator chose are not checksummed; they are redacted as the known secrets they are.
"""

from __future__ import annotations

import re
import secrets
import zlib

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_BYTES = 24  # 192 bits: token_urlsafe gives 32 characters
_RANDOM_CHARS = 32
_CHECK_CHARS = 6
_RUN = re.compile(rf"[A-Za-z0-9_\-]{{{_RANDOM_CHARS + _CHECK_CHARS},}}")


def new_key(prefix: str) -> str:
    """`prefix` + 32 random characters + their 6-character checksum."""
    body = secrets.token_urlsafe(_RANDOM_BYTES)
    return prefix + body + _checksum(body)


def is_minted(run: str) -> bool:
    """Whether `run` ends in a minted key's random part and checksum."""
    if len(run) < _RANDOM_CHARS + _CHECK_CHARS:
        return False
    tail = run[-(_RANDOM_CHARS + _CHECK_CHARS) :]
    return _checksum(tail[:_RANDOM_CHARS]) == tail[_RANDOM_CHARS:]


def redact_minted(text: str, replacement: str) -> str:
    """`text` with every minted key (and whatever prefix is glued to it) replaced."""
    return _RUN.sub(lambda m: replacement if is_minted(m.group()) else m.group(), text)


def _checksum(body: str) -> str:
    value = zlib.crc32(body.encode("ascii"))
    out = ""
    for _ in range(_CHECK_CHARS):
        value, digit = divmod(value, len(_ALPHABET))
        out += _ALPHABET[digit]
    return out
