"""Secrets never leave the process: redaction for headers, URLs and free text.

On the ground floor because every package writes evidence or logs: the suite, the reference server
(its access log and traces) and the report builder redact with the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "x-admin-key", "cookie", "set-cookie"})
REDACTED = "[REDACTED]"
# Key shapes of OpenAI and the providers we know, plus any bearer token (but a shell variable such as
# `$OPENAI_API_KEY`, which a reproducing curl command names in place of the key).
_KEY_PATTERN = re.compile(
    r"(?i)(bearer\s+)(?!\$)[^\s\"',]+|\b(sk-[A-Za-z0-9_\-]{6,}|cai_[A-Za-z0-9_\-]{6,}|kt_live_[A-Za-z0-9_\-]{6,}"
    r"|inf_[A-Za-z0-9_\-]{6,}|adm_[A-Za-z0-9_\-]{6,})"
)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return _KEY_PATTERN.sub(lambda m: (m.group(1) or "") + REDACTED, text)


def redact_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], secrets: Iterable[str] = ()
) -> dict:
    items = headers.items() if isinstance(headers, Mapping) else headers
    secrets = list(secrets)
    out: dict[str, str] = {}
    for name, value in items:
        out[name] = REDACTED if name.lower() in SECRET_HEADERS else redact_text(value, secrets)
    return out
