"""Per-key request rate limits on the `limits` library (moving window), with OpenAI's headers.

The synchronous limiter is used on purpose: `limits`' asyncio memory storage binds its locks to
the first event loop that touches it, and a gateway outlives loops (test clients, restarts of
an embedded server). In-memory hits take microseconds and run inline; a networked storage
(redis, memcached) is called from a worker thread so the event loop never waits on the network.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ..errors import APIError


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: float  # until the window has room again

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit-requests": str(self.limit),
            "x-ratelimit-remaining-requests": str(self.remaining),
            "x-ratelimit-reset-requests": _duration(self.reset_s),
        }


# `limits` reads "1/0 second" as one a second and ignores what it does not understand; this is the
# grammar we accept, checked before it sees the text: AMOUNT (/|per) [MULTIPLE] UNIT, both >= 1.
_RATE = re.compile(
    r"\s*([0-9]{1,9})\s*(?:/|per)\s*(?:([0-9]{1,6})\s*)?(second|minute|hour|day|month|year)s?\s*",
    re.IGNORECASE,
)


def parse_limit(text: str) -> RateLimitItem:
    """`"60/minute"`, `"2 per minute"`, `"1000/hour"`, `"10/5 seconds"`; anything else, a zero amount
    or a zero period is a 400 naming the field."""
    match = _RATE.fullmatch(text) if isinstance(text, str) else None
    if match is None or int(match[1]) < 1 or (match[2] is not None and int(match[2]) < 1):
        raise APIError(
            400,
            f"rate_limit: {text!r:.80} is not a rate like '60/minute' (a positive amount per a positive period)",
            param="rate_limit",
        )
    try:
        return parse(text)
    except (ValueError, TypeError) as exc:
        raise APIError(
            400, f"rate_limit: {text!r:.80} is not a rate like '60/minute'", param="rate_limit"
        ) from exc


class RateLimiter:
    """One moving-window limiter for every key; each key may carry its own limit."""

    def __init__(self, default: str = "60/minute", storage_uri: str = "memory://") -> None:
        self.default = parse_limit(default)
        self._inline = storage_uri.startswith("memory://")
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    async def hit(self, key_id: str, limit: str | None = None) -> RateDecision:
        """Count one request for `key_id`; the decision says whether it may proceed."""
        item = parse_limit(limit) if limit else self.default
        if self._inline:
            return self._hit(item, key_id)
        return await asyncio.to_thread(self._hit, item, key_id)

    def _hit(self, item: RateLimitItem, key_id: str) -> RateDecision:
        allowed = self._limiter.hit(item, "key", key_id)
        stats = self._limiter.get_window_stats(item, "key", key_id)
        reset_s = max(0.0, stats.reset_time - time.time())
        return RateDecision(
            allowed=allowed, limit=item.amount, remaining=max(0, stats.remaining), reset_s=reset_s
        )


def refuse(decision: RateDecision) -> APIError:
    """The 429 for a refused decision, with `Retry-After` in whole seconds (at least 1)."""
    retry_after = max(1, math.ceil(decision.reset_s))
    return APIError(
        429,
        f"Rate limit reached: {decision.limit} requests per window. Retry after {retry_after}s.",
        code="rate_limit_exceeded",
        headers={"retry-after": str(retry_after), **decision.headers()},
    )


def _duration(seconds: float) -> str:
    """OpenAI's reset format: `1s`, `250ms`, `6m0s`."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    whole = math.ceil(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"
