"""Edits that the chat and completions faults share: the two endpoints answer alike."""

from __future__ import annotations

import random

from ._hooks import choices
from ._registry import Json


def created_ms(payload: Json, request: Json) -> Json:
    return {**payload, "created": int(payload.get("created", 0)) * 1000}


def usage_off_by_one(payload: Json, request: Json) -> Json:
    usage = payload.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("total_tokens"), int):
        payload = {**payload, "usage": {**usage, "total_tokens": usage["total_tokens"] + 1}}
    return payload


def finish_bogus(payload: Json, request: Json) -> Json:
    for choice in choices(payload):
        choice["finish_reason"] = "done"
    return payload


def n_one(body: Json) -> Json:
    body["n"] = 1
    return body


def max_tokens_raised(body: Json) -> Json:
    for name in ("max_tokens", "max_completion_tokens"):
        if isinstance(body.get(name), int):
            body[name] = body[name] * 8 + 64
    return body


def seed_random(body: Json) -> Json:
    if "seed" in body:
        body["seed"] = random.SystemRandom().randrange(2**31)
    return body
