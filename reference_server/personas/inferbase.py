"""Inferbase (inferbase-api-reference.txt): base `/api/v1/inference`; `inf_` keys; chat, streamed or
not; `GET /models` and `GET /models/{model_id}/health` without auth; the key, credit and usage
endpoints (`POST/GET /keys`, `DELETE /keys/{key_id}`, `GET /credits`, `GET /credits/transactions`,
`GET /usage`); 401, 402, 403 (revoked key or deactivated account), 404, 429, 502 (cold start: retry).

Shapes as documented: model objects carry id, object and owned_by (no `created`), and unary chat
choices carry index, message and finish_reason (no null logprobs).
"""

from __future__ import annotations

from typing import Any

from ..gateway import GatewayConfig
from ._persona import Persona, Route, Shaping

Json = dict[str, Any]
BASE = "/api/v1/inference"


def inferbase_shapes(endpoint: str, payload: Json) -> Json:
    if endpoint == "models" and isinstance(payload.get("data"), list):
        data = [
            {"id": m.get("id"), "object": "model", "owned_by": "inferbase"} if isinstance(m, dict) else m
            for m in payload["data"]
        ]
        return {**payload, "data": data}
    if endpoint == "chat" and isinstance(payload.get("choices"), list):
        choices = [
            {k: v for k, v in c.items() if not (k == "logprobs" and v is None)} if isinstance(c, dict) else c
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
        key_prefix="inf_",
        revoked_status=403,  # "403 API key revoked or account deactivated"
        cold_start_status=502,  # "502 Backend error — model may be cold starting, retry"
        trace_header=None,
        public_prefix=BASE,
    ),
    shaping=Shaping(json=inferbase_shapes),
    open_endpoints=("models",),  # "/models None": no auth
)
