"""Edits that the chat and completions faults share (the two endpoints answer alike); the responses
faults take the usage one too."""

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


def usage_zero(payload: Json, request: Json) -> Json:
    usage = payload.get("usage")
    if isinstance(usage, dict):
        payload = {
            **payload,
            "usage": {**usage, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }
    return payload


def length_as_stop(payload: Json, request: Json) -> Json:
    for choice in choices(payload):
        if choice.get("finish_reason") == "length":
            choice["finish_reason"] = "stop"
    return payload


HIDDEN_OVERRUN = " and then some more words past the limit"


def overrun_hidden(payload: Json, request: Json) -> Json:
    """More text than the limit allows, while usage still says the limit held."""
    for choice in choices(payload):
        message = choice.get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            message["content"] += HIDDEN_OVERRUN
        elif isinstance(choice.get("text"), str):
            choice["text"] += HIDDEN_OVERRUN
    return payload
