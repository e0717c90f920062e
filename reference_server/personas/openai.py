"""OpenAI itself, behind the gateway: the strict default surface with `sk-` keys, for comparison."""

from __future__ import annotations

from ..gateway import GatewayConfig
from ._persona import OPENAI_GENERATION_ROUTES, UNDOCUMENTED_RATE_LIMIT, Persona, Route, Shaping

PERSONA = Persona(
    name="openai",
    title="OpenAI (strict default)",
    profile="openai",
    base_path="/v1",
    routes=(
        *OPENAI_GENERATION_ROUTES,
        Route("/v1/models", "/v1/models", "models", ("GET",)),
        Route("/v1/models/{model:path}", "/v1/models/{model}", "model", ("GET",)),
        Route("/v1/responses", "/v1/responses", "responses"),
        Route("/v1/responses/{response_id}", "/v1/responses/{response_id}", "responses", ("GET", "DELETE")),
        Route(
            "/v1/responses/{response_id}/input_items",
            "/v1/responses/{response_id}/input_items",
            "responses",
            ("GET",),
        ),
    ),
    gateway=GatewayConfig(
        default_rate_limit=UNDOCUMENTED_RATE_LIMIT,  # the profile documents no limit
        key_prefix="sk-",
        revoked_status=401,
        cold_start_status=503,
        trace_header=None,
    ),
    # OpenAI answers an exhausted quota with 429 insufficient_quota, not 402 (its error-code guide).
    shaping=Shaping(status_map={402: 429}),
)
