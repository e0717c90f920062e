"""Carrot Labs (carrot-labs-inference.txt): OpenAI's paths under /v1 for chat, completions and
embeddings; exact, case-sensitive model names (404 otherwise); `X-Carrot-Trace: true` captures a
trace; 502 while the inference provider is unavailable.

Where the page is silent the persona does what OpenAI does: no model list is documented, so none is
served; a spent balance is refused as OpenAI refuses it (429 insufficient_quota), since Carrot
documents no 402; revoked keys get 401 like any invalid key.
"""

from __future__ import annotations

from ..gateway import GatewayConfig
from ._persona import OPENAI_GENERATION_ROUTES, UNDOCUMENTED_RATE_LIMIT, Persona, Route, Shaping

PERSONA = Persona(
    name="carrot",
    title="Carrot Labs",
    profile="carrot",
    base_path="/v1",
    routes=(
        *OPENAI_GENERATION_ROUTES,
        Route("/v1/traces/{trace_id}", "/v1/traces/{trace_id}", "gateway", ("GET",)),  # read a trace back
    ),
    gateway=GatewayConfig(
        default_rate_limit=UNDOCUMENTED_RATE_LIMIT,  # the profile documents no limit
        key_prefix="sk-",
        revoked_status=401,
        cold_start_status=502,  # "502 Inference provider temporarily unavailable"
        trace_header="X-Carrot-Trace",
        public_prefix="/v1",
    ),
    shaping=Shaping(status_map={402: 429}),
)
