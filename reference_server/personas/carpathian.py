"""Carpathian AI (carpathian-quickstart.txt, carpathian-inference-guide.txt): `cai_` keys each bound
to one model ("default", or no model, names it); every common base URL shape routes (`/ai`, `/ai/v1`,
and the full chat-completions URL pasted as the base); `/ai/chat/completions`, `/ai/chat`, `/ai/v1`
and `/ai/v1/completions` take the chat payload; `GET /ai/v1/models` lists the key's one model;
401 (missing, mistyped or revoked key), 402 (out of tokens), 403 (IP not on the allowlist, or the
instance locked), 429 (60 requests per minute by default).

Streaming: the quickstart says "Streaming is not supported; the full response returns at once", the
inference guide says streamed responses are supported. The persona follows the quickstart (the API's
own page, and the profile's `assumed` claim): a request with `stream: true` gets the whole
chat.completion at once, as JSON. A real target that streams shows up as profile drift.
"""

from __future__ import annotations

from ..gateway import GatewayConfig
from ._persona import Persona, Route, Shaping, chat_routes

# The full chat-completions URL pasted as the base: an SDK appends its own path to it.
_PASTED = "/ai/v1/chat/completions"

PERSONA = Persona(
    name="carpathian",
    title="Carpathian AI",
    profile="carpathian",
    base_path="/ai/v1",
    routes=(
        *chat_routes(
            (
                "/ai/v1/chat/completions",  # the primary chat endpoint
                "/ai/chat/completions",  # aliases that take the same payload...
                "/ai/chat",
                "/ai/v1",
                "/ai/v1/completions",
                _PASTED + "/chat/completions",  # ...and the pasted full URL, with an SDK's suffix
            )
        ),
        Route("/ai/v1/models", "/v1/models", "models", ("GET",)),
        Route("/ai/models", "/v1/models", "models", ("GET",)),  # base URL /ai
        Route(_PASTED + "/models", "/v1/models", "models", ("GET",)),
    ),
    gateway=GatewayConfig(
        key_prefix="cai_",
        revoked_status=401,  # "401: the cai_ key is missing, mistyped, or revoked."
        cold_start_status=503,  # undocumented: OpenAI's answer
        trace_header=None,
        default_rate_limit="60/minute",
    ),
    shaping=Shaping(stream="off"),
    bind_keys_to_model=True,
    notes=("streaming: the quickstart's 'not supported' is served; the guide's claim is not",),
)
