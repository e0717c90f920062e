"""Karta (karta-chat-completions.txt): chat completions under `/v1/projects/{project_ref}` (any
project_ref is served); `model` optional (the project's model, named "default"); a unary answer with
`object: "text_completion"` and usage as `input_tokens`/`output_tokens`/`total_tokens`; a stream of
`event: chunk` frames whose data holds only `choices[].delta`, ending `event: [DONE]` / `data: [DONE]`;
statuses 200, 401, 402 (budget), 403, 404, 409, 422.

The list has 422 and no 400, so the persona answers 422 wherever the shared app answers 400 (the
profile's inferred mapping). Keys (`kt_live_`) are bound to the project's model, which makes the model
optional and "default" its name. Statuses Karta does not list (rate limit, cold start) are OpenAI's.
"""

from __future__ import annotations

from typing import Any

from ..gateway import GatewayConfig
from ._persona import UNDOCUMENTED_RATE_LIMIT, Persona, Route, Shaping

Json = dict[str, Any]


def karta_unary(endpoint: str, payload: Json) -> Json:
    """The documented unary shape: object "text_completion", usage in input/output tokens, and
    choices of index, message and finish_reason (no null logprobs)."""
    if endpoint != "chat" or payload.get("object") != "chat.completion":
        return payload
    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
    choices = [
        {k: v for k, v in c.items() if not (k == "logprobs" and v is None)} if isinstance(c, dict) else c
        for c in payload.get("choices") or []
    ]
    shaped = {k: v for k, v in payload.items() if k not in ("system_fingerprint", "service_tier")}
    shaped.update(object="text_completion", choices=choices)
    shaped["usage"] = {
        "input_tokens": usage.get("prompt_tokens", 0),
        "output_tokens": usage.get("completion_tokens", 0),
        "total_tokens": usage.get("total_tokens", 0),
    }
    return shaped


PERSONA = Persona(
    name="karta",
    title="Karta",
    profile="karta",
    base_path="/v1/projects/my-app",  # the doc's example project; any project_ref routes
    routes=(Route("/v1/projects/{project_ref}/chat/completions", "/v1/chat/completions", "chat"),),
    gateway=GatewayConfig(
        default_rate_limit=UNDOCUMENTED_RATE_LIMIT,  # the profile documents no limit
        key_prefix="kt_live_",
        revoked_status=401,
        cold_start_status=503,
        trace_header=None,
    ),
    shaping=Shaping(status_map={400: 422}, json=karta_unary, stream="karta"),
    bind_keys_to_model=True,
)
