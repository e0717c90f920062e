"""Staying under a target's rate limit: pacing requests (`Pacer`), and how long to wait before
retrying a 429 (`retry_delay`), as openai-python does."""

from __future__ import annotations

import math
import re
import threading
import time
from email.utils import parsedate_to_datetime
from typing import Any

from .exchange import Exchange

RETRY_AFTER_MAX_S = 60.0  # a longer Retry-After is not waited for (openai-python: the same bound)
RETRY_INITIAL_S, RETRY_MAX_BACKOFF_S = 0.5, 8.0  # openai-python's backoff


class Pacer:
    """Spaces requests so that no more than `rpm` start in any minute (a little under, for clocks
    that disagree); thread-safe, since scenarios and SDK runners share one target."""

    MARGIN = 1.05

    def __init__(self, rpm: int | None) -> None:
        self.interval = 60.0 * self.MARGIN / rpm if rpm else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


def retry_delay(headers: dict[str, str], attempt: int) -> float:
    """Seconds to wait before retrying a 429: what the answer asks for (`retry-after-ms`,
    `Retry-After` in seconds or as an HTTP date, the earliest `x-ratelimit-reset-*`), else
    openai-python's backoff (0.5 s doubling, at most 8 s)."""
    asked: list[float] = []
    if "retry-after-ms" in headers:
        asked += [s / 1000 for s in [_number(headers["retry-after-ms"])] if s is not None]
    value = headers.get("retry-after")
    if value:
        seconds = _number(value)
        if seconds is None:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):
                seconds = None
        if seconds is not None:
            asked.append(seconds)
    resets = [_duration(v) for k, v in headers.items() if k.startswith("x-ratelimit-reset")]
    asked += [r for r in resets if r is not None]
    valid = [a for a in asked if 0 <= a <= RETRY_AFTER_MAX_S]
    if valid:
        return max(valid[0], 0.05)
    return min(RETRY_INITIAL_S * 2 ** (attempt - 1), RETRY_MAX_BACKOFF_S)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def _duration(text: str) -> float | None:
    """`x-ratelimit-reset-requests` as OpenAI writes it (`1s`, `6m0s`, `20ms`), or plain seconds."""
    plain = _number(text)
    if plain is not None:
        return plain
    parts = _DURATION.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in parts)


def quota_spent(exchange: Exchange) -> bool:
    """A 429 for a spent quota (OpenAI's `insufficient_quota`): waiting does not help, so no retry."""
    payload = exchange.json
    error = payload.get("error") if isinstance(payload, dict) else None
    return isinstance(error, dict) and error.get("code") == "insufficient_quota"


def refusal_note(exchange: Exchange) -> dict[str, Any]:
    """A 429 kept as evidence (its status and rate-limit headers)."""
    kept = {k: v for k, v in exchange.headers.items() if "ratelimit" in k or k.startswith("retry-after")}
    return {"status": exchange.status, "headers": kept}
