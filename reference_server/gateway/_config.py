"""What a gateway is configured with: the knobs a persona turns to reproduce a provider's surface."""

from __future__ import annotations

from dataclasses import dataclass, field

from limits import parse

from ._credits import Pricing


@dataclass(frozen=True)
class GatewayConfig:
    """Behaviour of one gateway. Defaults follow OpenAI where a provider documents nothing else."""

    key_prefix: str = "sk-"
    admin_key: str | None = field(default=None, repr=False)  # None: no /admin routes at all
    revoked_status: int = 401  # carpathian 401, inferbase 403
    model_mismatch_status: int = 404  # a key bound to one model, asked for another
    bound_model_aliases: tuple[str, ...] = ("default",)  # names a bound key accepts for its own model
    cold_start_status: int = 502  # inferbase/carrot 502; 503 is the other common choice
    cold_start_retry_after_s: int = 5  # Retry-After while loading with no known ready time
    # Endpoints that run a model: only these are refused for cold start (502/503) or credit (402);
    # listing models costs nothing and works while a model loads.
    billable_endpoints: tuple[str, ...] = ("chat", "completions", "embeddings", "responses")
    credits_enforced: bool = True  # False: usage is still priced and logged, but never refused (402)
    public_prefix: str = ""  # where /keys, /credits, /usage, /traces live (a persona's base path)
    default_rate_limit: str = "60/minute"
    ratelimit_storage_uri: str = "memory://"  # any `limits` storage URI; a shared store for replicas
    pricing: Pricing = field(default_factory=Pricing)
    trace_header: str | None = "X-Carrot-Trace"  # None: no trace capture
    trace_id_header: str = "x-trace-id"
    request_id_header: str = "x-request-id"
    trust_forwarded_for: bool = False  # take the client address from X-Forwarded-For (behind a proxy)
    # WAL + NORMAL survives a process kill (SIGKILL) with every committed transaction; only a power
    # loss may drop the last few. FULL also fsyncs each commit for power-loss durability, at a cost.
    sqlite_synchronous: str = "NORMAL"

    def __post_init__(self) -> None:
        parse(self.default_rate_limit)  # fail at configuration time, not on the first request
        if self.revoked_status not in (401, 403):
            raise ValueError("revoked_status must be 401 or 403")
        if self.cold_start_status not in (502, 503):
            raise ValueError("cold_start_status must be 502 or 503")
        if self.sqlite_synchronous.upper() not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError("sqlite_synchronous must be NORMAL, FULL or EXTRA (OFF is not crash safe)")
