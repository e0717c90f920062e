"""What a persona is: the shared app, adapted to one provider's documented surface.

A `Persona` is data: the paths it serves and what each maps to in the shared app (`RouteMap`),
the gateway configuration (key prefix, revoked status, cold-start status, limits), which endpoints
need no key, and the response shapers (`Shaping`). `Persona.build` wraps `create_app` in the
`PersonaAdapter` middleware; nothing of the app is copied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import compile_path
from starlette.types import ASGIApp

from ..app import DEFAULT_MAX_BODY_BYTES, create_app
from ..engines.base import Engine
from ..faults import FaultSet
from ..gateway import Gateway, GatewayConfig

Json = dict[str, Any]
# A provider that documents no request limit gets none the suite could run into: the persona does not
# invent one (its profile's `limits` is null). The rate-limited row of the error matrix still gets its
# 429 from a key made with a low limit of its own.
UNDOCUMENTED_RATE_LIMIT = "100000/minute"
JsonShaper = Callable[[str, Json], Json]  # (endpoint, payload) -> payload


@dataclass(frozen=True)
class Route:
    """One public path (Starlette syntax) the persona serves, and the app path it maps to."""

    path: str
    target: str  # app path; may use the public path's parameters, e.g. /v1/models/{model}/health
    endpoint: str  # the app's endpoint name: chat, completions, embeddings, models, model, health, gateway
    methods: tuple[str, ...] = ("POST",)

    def compiled(self) -> Any:
        return compile_path(self.path)


# OpenAI's generation paths, served as they are by the personas that keep OpenAI's URLs.
OPENAI_GENERATION_ROUTES = (
    Route("/v1/chat/completions", "/v1/chat/completions", "chat"),
    Route("/v1/completions", "/v1/completions", "completions"),
    Route("/v1/embeddings", "/v1/embeddings", "embeddings"),
)


@dataclass(frozen=True)
class Shaping:
    """How requests are taken and responses depart from OpenAI's, as the provider documents them."""

    status_map: Mapping[int, int] = field(default_factory=dict)  # e.g. Karta answers 422 where OpenAI 400
    json: JsonShaper | None = None  # rewrites a unary JSON body
    stream: str = "sse"  # sse (OpenAI's) | off (the full response at once) | karta (event: chunk frames)
    request: JsonShaper | None = None  # rewrites a generation request body before it is served


@dataclass(frozen=True)
class Persona:
    name: str
    title: str
    profile: str  # schemas/profiles/<profile>.yaml describes the same surface
    base_path: str  # the documented base URL's path, as served (a placeholder filled with an example)
    routes: tuple[Route, ...]
    gateway: GatewayConfig
    shaping: Shaping = field(default_factory=Shaping)
    bind_keys_to_model: bool = False  # a key serves one model; "default" (or no model) names it
    open_endpoints: tuple[str, ...] = ()  # app endpoints served without a key
    notes: tuple[str, ...] = ()  # decisions where the docs are silent or contradict each other

    def gateway_config(self, admin_key: str | None) -> GatewayConfig:
        from dataclasses import replace

        return replace(self.gateway, admin_key=admin_key)

    def build(
        self,
        engine: Engine,
        gateway: Gateway,
        *,
        faults: FaultSet | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> ASGIApp:
        """The shared app over `engine` and `gateway`, behind this persona's adapter."""
        from ._adapter import PersonaAdapter

        app = create_app(
            engine,
            api_keys=(),
            faults=faults,
            max_body_bytes=max_body_bytes,
            gateway=gateway,
            authenticate_first=True,
            open_endpoints=self.open_endpoints,
        )
        return PersonaAdapter(
            app, self, max_body_bytes=max_body_bytes, admin=gateway.config.admin_key is not None
        )


def chat_routes(paths: Sequence[str]) -> tuple[Route, ...]:
    """Each of `paths` takes the chat payload."""
    return tuple(Route(p, "/v1/chat/completions", "chat") for p in paths)
