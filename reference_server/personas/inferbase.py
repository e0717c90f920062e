"""Inferbase (inferbase-api-reference.txt): base `/api/v1/inference`; `inf_` keys; chat, streamed or
not; `GET /models` and `GET /models/{model_id}/health` without auth; the key, credit and usage
endpoints (`POST/GET /keys`, `DELETE /keys/{key_id}`, `GET /credits`, `GET /credits/transactions`,
`GET /usage`); 401, 402, 403 (revoked key or deactivated account), 404, 429, 502 (cold start: retry).

Shapes as documented: model objects carry id, object and owned_by (no `created`), and unary chat
choices carry index, message and finish_reason, never logprobs. The chat request body documents
model, messages, stream, temperature and max_tokens; `logprobs` and `top_logprobs` are not among
them, so the persona ignores them (a lenient server's answer to fields it does not know), and the
answer has no logprobs whatever was asked.
"""

from __future__ import annotations

from typing import Any

from ..gateway import GatewayConfig
from ._persona import UNDOCUMENTED_RATE_LIMIT, Persona, Route, Shaping

Json = dict[str, Any]
BASE = "/api/v1/inference"


UNDOCUMENTED_CHAT_FIELDS = ("logprobs", "top_logprobs")  # asked for, they are ignored


def inferbase_request(endpoint: str, body: Json) -> Json:
    """The chat request as Inferbase serves it: undocumented fields it does not honour dropped."""
    if endpoint != "chat":
        return body
    return {k: v for k, v in body.items() if k not in UNDOCUMENTED_CHAT_FIELDS}


def inferbase_shapes(endpoint: str, payload: Json) -> Json:
    if endpoint == "models" and isinstance(payload.get("data"), list):
        data = [
            {"id": m.get("id"), "object": "model", "owned_by": "inferbase"} if isinstance(m, dict) else m
            for m in payload["data"]
        ]
        return {**payload, "data": data}
    if endpoint == "chat" and isinstance(payload.get("choices"), list):
        choices = [
            {k: v for k, v in c.items() if k != "logprobs"} if isinstance(c, dict) else c
            for c in payload["choices"]
        ]
        return {**payload, "choices": choices}
    return payload


PERSONA = Persona(
    name="inferbase",
    title="Inferbase",
    profile="inferbase",
    base_path=BASE,
    routes=(
        Route(f"{BASE}/chat/completions", "/v1/chat/completions", "chat"),
        Route(f"{BASE}/models", "/v1/models", "models", ("GET",)),
        Route(f"{BASE}/models/{{model:path}}/health", "/v1/models/{model}/health", "health", ("GET",)),
        Route(f"{BASE}/keys", f"{BASE}/keys", "gateway", ("GET", "POST")),
        Route(f"{BASE}/keys/{{key_id}}", f"{BASE}/keys/{{key_id}}", "gateway", ("DELETE",)),
        Route(f"{BASE}/credits", f"{BASE}/credits", "gateway", ("GET",)),
        Route(f"{BASE}/credits/transactions", f"{BASE}/credits/transactions", "gateway", ("GET",)),
        Route(f"{BASE}/usage", f"{BASE}/usage", "gateway", ("GET",)),
    ),
    gateway=GatewayConfig(
        default_rate_limit=UNDOCUMENTED_RATE_LIMIT,  # the profile documents no limit
        key_prefix="inf_",
        revoked_status=403,  # "403 API key revoked or account deactivated"
        cold_start_status=502,  # "502 Backend error — model may be cold starting, retry"
        trace_header=None,
        public_prefix=BASE,
    ),
    shaping=Shaping(json=inferbase_shapes, request=inferbase_request),
    open_endpoints=("models",),  # "/models None": no auth
)
